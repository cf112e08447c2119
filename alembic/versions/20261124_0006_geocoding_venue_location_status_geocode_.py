"""geocoding: venue location status, geocode cache, provider rate slots

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 21:04:24.986607
"""

from alembic import op
import sqlalchemy as sa


import booking.models.types

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('geocode_cache',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('query', sa.String(length=500), nullable=False),
    sa.Column('found', sa.Boolean(), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('display_name', sa.String(length=500), nullable=False),
    sa.Column('fetched_at', booking.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_geocode_cache')),
    sa.UniqueConstraint('query', name=op.f('uq_geocode_cache_query'))
    )
    op.create_table('provider_slots',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('last_request_at', booking.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_provider_slots'))
    )
    with op.batch_alter_table('venues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('location_status', sa.String(length=16), server_default='pending', nullable=False))
        batch_op.add_column(sa.Column('locate_attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('locate_after', booking.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('located_at', booking.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_venues_latitude_longitude', ['latitude', 'longitude'], unique=False)
        batch_op.create_check_constraint(
            'location_status', "location_status IN ('pending', 'located', 'manual', 'not_located')")
    # Coordinates that exist already were typed in: the geocoder leaves them alone.
    op.execute("UPDATE venues SET location_status = 'manual' WHERE latitude IS NOT NULL")


def downgrade():
    with op.batch_alter_table('venues', schema=None) as batch_op:
        batch_op.drop_constraint('location_status', type_='check')
        batch_op.drop_index('ix_venues_latitude_longitude')
        batch_op.drop_column('located_at')
        batch_op.drop_column('locate_after')
        batch_op.drop_column('locate_attempts')
        batch_op.drop_column('location_status')

    op.drop_table('provider_slots')
    op.drop_table('geocode_cache')
