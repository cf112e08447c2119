"""Gift vouchers bought online: their orders, paid through the provider's
hosted checkout

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 12:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


import booking.models.types

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('voucher_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('buyer_id', sa.Integer(), nullable=True),
    sa.Column('buyer_email', sa.String(length=254), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('provider_ref', sa.String(length=255), nullable=True),
    sa.Column('idempotency_key', sa.String(length=100), nullable=False),
    sa.Column('checkout_url', sa.String(length=2000), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('voucher_id', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=1000), nullable=False),
    sa.Column('created_at', booking.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', booking.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_voucher_orders_amount')),
    sa.CheckConstraint("status IN ('pending', 'paid', 'failed')", name=op.f('ck_voucher_orders_status')),
    sa.ForeignKeyConstraint(['buyer_id'], ['users.id'], name=op.f('fk_voucher_orders_buyer_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_voucher_orders_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_voucher_orders_voucher_id_vouchers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_orders')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_voucher_orders_idempotency_key')),
    sa.UniqueConstraint('provider', 'provider_ref', name=op.f('uq_voucher_orders_provider_provider_ref')),
    sa.UniqueConstraint('tenant_id', 'voucher_id', name=op.f('uq_voucher_orders_tenant_id_voucher_id'))
    )
    op.create_index(op.f('ix_voucher_orders_tenant_id'), 'voucher_orders', ['tenant_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_voucher_orders_tenant_id'), table_name='voucher_orders')
    op.drop_table('voucher_orders')
