"""bookings by resource and start, for popular times and the staff calendar

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 21:35:49.152642
"""

from alembic import op
import sqlalchemy as sa


import booking.models.types

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index('ix_bookings_resource_starts_at', ['resource_id', 'starts_at'], unique=False)



def downgrade():
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index('ix_bookings_resource_starts_at')

