"""Consent: confirmed addresses, verified businesses, pending invitations,
walk-ins without an account

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 19:15:00
"""

from alembic import op
import sqlalchemy as sa


import booking.models.types

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_confirmed_at', booking.models.types.UTCDateTime(), nullable=True))
    # Accounts made before confirmation existed keep signing in.
    op.execute("UPDATE users SET email_confirmed_at = created_at")
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verified', sa.Boolean(), server_default=sa.true(), nullable=False))
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_email', sa.String(length=254), server_default='', nullable=False))
        batch_op.alter_column('customer_id', existing_type=sa.Integer(), nullable=True)


def downgrade():
    op.execute("DELETE FROM bookings WHERE customer_id IS NULL")
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.alter_column('customer_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('contact_email')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_column('pending')
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('verified')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email_confirmed_at')
