"""bookings.contact_name and contact_phone: the customer as the business knows them

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 21:46:01.325848
"""

from alembic import op
import sqlalchemy as sa


import booking.models.types

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_name', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('contact_phone', sa.String(length=40), server_default='', nullable=False))
    # Existing bookings: the customer's profile as it is now.
    op.execute(
        "UPDATE bookings SET contact_name = (SELECT name FROM users WHERE users.id = bookings.customer_id),"
        " contact_phone = (SELECT phone FROM users WHERE users.id = bookings.customer_id)"
    )


def downgrade():
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_column('contact_phone')
        batch_op.drop_column('contact_name')

