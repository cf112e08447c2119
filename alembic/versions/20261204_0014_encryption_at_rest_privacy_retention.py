"""encryption at rest (users.phone, bookings.contact_phone, bookings.note become TEXT
for their ciphertexts), erased accounts, anonymised bookings, a per-tenant retention
of personal data, outbox bodies redacted

Existing values stay plaintext until ``booking-keys rotate`` encrypts them
(the column type reads legacy plaintext meanwhile). A downgrade narrows the
columns again: on PostgreSQL it fails while they hold ciphertexts longer
than the old limits.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 19:20:00.000000
"""

from alembic import op
import sqlalchemy as sa


import booking.models.types

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('phone', existing_type=sa.String(length=40), type_=sa.Text(),
                              existing_nullable=False)
        batch_op.add_column(sa.Column('erased_at', booking.models.types.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.alter_column('contact_phone', existing_type=sa.String(length=40), type_=sa.Text(),
                              existing_nullable=False, existing_server_default='')
        batch_op.alter_column('note', existing_type=sa.String(length=1000), type_=sa.Text(),
                              existing_nullable=False)
        batch_op.add_column(sa.Column('anonymised_at', booking.models.types.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('personal_data_days', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            'personal_data_days', 'personal_data_days IS NULL OR personal_data_days >= 1')

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('carries_secret', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('redacted_at', booking.models.types.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('redacted_at')
        batch_op.drop_column('carries_secret')

    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_constraint('personal_data_days', type_='check')
        batch_op.drop_column('personal_data_days')

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_column('anonymised_at')
        batch_op.alter_column('note', existing_type=sa.Text(), type_=sa.String(length=1000),
                              existing_nullable=False)
        batch_op.alter_column('contact_phone', existing_type=sa.Text(), type_=sa.String(length=40),
                              existing_nullable=False, existing_server_default='')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
        batch_op.alter_column('phone', existing_type=sa.Text(), type_=sa.String(length=40),
                              existing_nullable=False)
