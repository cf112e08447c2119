"""login throttling, hold expiry check

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 19:11:17.839425
"""

from alembic import op
import sqlalchemy as sa


import booking.models.types

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('at', booking.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures'))
    )
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index('ix_login_failures_key_at', ['key', 'at'], unique=False)

    # A hold always says when it ends.
    op.execute("UPDATE bookings SET status = 'expired' WHERE status = 'held' AND hold_expires_at IS NULL")
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_check_constraint(
            'hold_expiry', "status <> 'held' OR hold_expires_at IS NOT NULL")



def downgrade():
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_bookings_hold_expiry'), type_='check')
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failures_key_at')

    op.drop_table('login_failures')
