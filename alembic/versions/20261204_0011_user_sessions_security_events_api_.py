"""user_sessions, security_events; api_tokens.expires_at and last_used_at

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 19:15:00
"""

from datetime import UTC, datetime, timedelta

from alembic import op
import sqlalchemy as sa


import booking.models.types

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

#: Tokens issued before expiry existed live as long as a new one would by default.
DEFAULT_LIFETIME = timedelta(days=30)


def upgrade():
    op.create_table('user_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', booking.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', booking.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', booking.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('device', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
    sa.UniqueConstraint('digest', name=op.f('uq_user_sessions_digest'))
    )
    op.create_index('ix_user_sessions_user_id', 'user_sessions', ['user_id'], unique=False)
    op.create_table('security_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('at', booking.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('client_addr', sa.String(length=64), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_security_events_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_security_events'))
    )
    op.create_index('ix_security_events_user_id_at', 'security_events', ['user_id', 'at'], unique=False)
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', booking.models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_used_at', booking.models.types.UTCDateTime(timezone=True), nullable=True))
    # Tokens issued before: they expire a default lifetime after now (the
    # date arithmetic is done here, the same on both databases).
    tokens = sa.table('api_tokens', sa.column('expires_at', booking.models.types.UTCDateTime()))
    op.execute(tokens.update().values(expires_at=datetime.now(UTC) + DEFAULT_LIFETIME))
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.alter_column('expires_at', existing_type=booking.models.types.UTCDateTime(timezone=True), nullable=False)


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('expires_at')
    op.drop_index('ix_security_events_user_id_at', table_name='security_events')
    op.drop_table('security_events')
    op.drop_index('ix_user_sessions_user_id', table_name='user_sessions')
    op.drop_table('user_sessions')
