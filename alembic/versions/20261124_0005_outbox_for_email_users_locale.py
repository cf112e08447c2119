"""outbox: rendered emails written with the change that causes them; users.locale for their language

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 21:00:08.750106
"""

from alembic import op
import sqlalchemy as sa


import booking.models.types

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('attachments', sa.JSON(), nullable=False),
    sa.Column('created_at', booking.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('due_at', booking.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', booking.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('locked_until', booking.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=1000), nullable=False),
    sa.Column('sent_at', booking.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('failed_at', booking.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_outbox_booking_id_bookings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_outbox_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbox_dedupe_key'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_booking_id', ['booking_id'], unique=False)
        batch_op.create_index('ix_outbox_pending_next_attempt_at', ['next_attempt_at'], unique=False, postgresql_where=sa.text('sent_at IS NULL AND failed_at IS NULL'), sqlite_where=sa.text('sent_at IS NULL AND failed_at IS NULL'))
        batch_op.create_index(batch_op.f('ix_outbox_tenant_id'), ['tenant_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=10), server_default='en', nullable=False))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('locale')

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_tenant_id'))
        batch_op.drop_index('ix_outbox_pending_next_attempt_at', postgresql_where=sa.text('sent_at IS NULL AND failed_at IS NULL'), sqlite_where=sa.text('sent_at IS NULL AND failed_at IS NULL'))
        batch_op.drop_index('ix_outbox_booking_id')

    op.drop_table('outbox')
