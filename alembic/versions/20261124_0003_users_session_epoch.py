"""users.session_epoch: a password change ends the other sessions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 19:19:05.945516
"""

from alembic import op
import sqlalchemy as sa


import booking.models.types

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_epoch')

