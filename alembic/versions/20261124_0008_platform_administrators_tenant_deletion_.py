"""users.is_platform_admin (the platform's own principal); tenants.deletion_requested_at (purged after a grace period)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 21:16:45.817667
"""

from alembic import op
import sqlalchemy as sa


import booking.models.types

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deletion_requested_at', booking.models.types.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_platform_admin', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('is_platform_admin')

    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('deletion_requested_at')

