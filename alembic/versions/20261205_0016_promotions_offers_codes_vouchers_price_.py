"""Promotions: automatic offers, promo codes and their uses, vouchers and
their ledger; a booking's price breakdown; the tenant's move and
cancellation rules for prices

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 07:31:39.592314
"""

from alembic import op
import sqlalchemy as sa


import booking.models.types

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('promo_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('valid_from', booking.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('valid_until', booking.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('max_uses', sa.Integer(), nullable=True),
    sa.Column('max_uses_per_customer', sa.Integer(), nullable=True),
    sa.Column('uses', sa.Integer(), nullable=False),
    sa.Column('min_seats', sa.Integer(), nullable=False),
    sa.Column('min_amount', sa.Integer(), nullable=False),
    sa.Column('venue_ids', sa.JSON(), nullable=False),
    sa.Column('resource_ids', sa.JSON(), nullable=False),
    sa.Column('first_booking_only', sa.Boolean(), nullable=False),
    sa.Column('percent', sa.Integer(), nullable=True),
    sa.Column('amount', sa.Integer(), nullable=True),
    sa.Column('weekdays', sa.JSON(), nullable=False),
    sa.Column('from_minute', sa.Integer(), nullable=True),
    sa.Column('to_minute', sa.Integer(), nullable=True),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('ended_at', booking.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', booking.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('(percent IS NULL AND amount IS NOT NULL) OR (percent IS NOT NULL AND amount IS NULL)', name=op.f('ck_promo_codes_one_discount')),
    sa.CheckConstraint('amount IS NULL OR amount > 0', name=op.f('ck_promo_codes_amount')),
    sa.CheckConstraint('max_uses IS NULL OR uses <= max_uses', name=op.f('ck_promo_codes_uses')),
    sa.CheckConstraint('percent IS NULL OR (percent BETWEEN 1 AND 100)', name=op.f('ck_promo_codes_percent')),
    sa.CheckConstraint('uses >= 0', name=op.f('ck_promo_codes_uses_positive')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_promo_codes_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promo_codes')),
    sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_promo_codes_tenant_id_code'))
    )
    op.create_index(op.f('ix_promo_codes_tenant_id'), 'promo_codes', ['tenant_id'], unique=False)
    op.create_table('vouchers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('hint', sa.String(length=8), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('initial', sa.Integer(), nullable=False),
    sa.Column('balance', sa.Integer(), nullable=False),
    sa.Column('expires_at', booking.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('issued_by', sa.Integer(), nullable=True),
    sa.Column('bought_by', sa.Integer(), nullable=True),
    sa.Column('voided_at', booking.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', booking.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('balance <= initial', name=op.f('ck_vouchers_balance_initial')),
    sa.CheckConstraint('balance >= 0', name=op.f('ck_vouchers_balance')),
    sa.ForeignKeyConstraint(['bought_by'], ['users.id'], name=op.f('fk_vouchers_bought_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['issued_by'], ['users.id'], name=op.f('fk_vouchers_issued_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_vouchers_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vouchers')),
    sa.UniqueConstraint('tenant_id', 'digest', name=op.f('uq_vouchers_tenant_id_digest'))
    )
    op.create_index(op.f('ix_vouchers_tenant_id'), 'vouchers', ['tenant_id'], unique=False)
    op.create_table('offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('venue_id', sa.Integer(), nullable=True),
    sa.Column('resource_id', sa.Integer(), nullable=True),
    sa.Column('hours_before', sa.Integer(), nullable=True),
    sa.Column('days_ahead', sa.Integer(), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('stacks', sa.Boolean(), nullable=False),
    sa.Column('percent', sa.Integer(), nullable=True),
    sa.Column('amount', sa.Integer(), nullable=True),
    sa.Column('weekdays', sa.JSON(), nullable=False),
    sa.Column('from_minute', sa.Integer(), nullable=True),
    sa.Column('to_minute', sa.Integer(), nullable=True),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('ended_at', booking.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', booking.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('off_peak', 'last_minute', 'early_bird')", name=op.f('ck_offers_kind')),
    sa.CheckConstraint('(percent IS NULL AND amount IS NOT NULL) OR (percent IS NOT NULL AND amount IS NULL)', name=op.f('ck_offers_one_discount')),
    sa.CheckConstraint('amount IS NULL OR amount > 0', name=op.f('ck_offers_amount')),
    sa.CheckConstraint('percent IS NULL OR (percent BETWEEN 1 AND 100)', name=op.f('ck_offers_percent')),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_offers_resource_id_resources'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_offers_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['venue_id'], ['venues.id'], name=op.f('fk_offers_venue_id_venues'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offers'))
    )
    op.create_index(op.f('ix_offers_tenant_id'), 'offers', ['tenant_id'], unique=False)
    op.create_table('code_uses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('customer_key', sa.String(length=270), nullable=False),
    sa.Column('discount', sa.Integer(), nullable=False),
    sa.Column('created_at', booking.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('released_at', booking.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_code_uses_booking_id_bookings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['code_id'], ['promo_codes.id'], name=op.f('fk_code_uses_code_id_promo_codes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_code_uses_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_code_uses')),
    sa.UniqueConstraint('tenant_id', 'booking_id', name=op.f('uq_code_uses_tenant_id_booking_id'))
    )
    op.create_index('ix_code_uses_code_customer', 'code_uses', ['code_id', 'customer_key'], unique=False)
    op.create_index(op.f('ix_code_uses_tenant_id'), 'code_uses', ['tenant_id'], unique=False)
    op.create_table('voucher_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('voucher_id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', booking.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_voucher_entries_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_voucher_entries_booking_id_bookings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_voucher_entries_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_voucher_entries_voucher_id_vouchers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_entries'))
    )
    op.create_index(op.f('ix_voucher_entries_tenant_id'), 'voucher_entries', ['tenant_id'], unique=False)
    op.create_index('ix_voucher_entries_voucher_id', 'voucher_entries', ['voucher_id'], unique=False)
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('price_breakdown', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('voucher_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('voucher_amount', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_bookings_voucher_id_vouchers'), 'vouchers', ['voucher_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('has_offers', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('move_pricing', sa.String(length=8), server_default='keep', nullable=False))
        batch_op.add_column(sa.Column('release_code_on_cancel', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade():
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('release_code_on_cancel')
        batch_op.drop_column('move_pricing')
        batch_op.drop_column('has_offers')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_bookings_voucher_id_vouchers'), type_='foreignkey')
        batch_op.drop_column('voucher_amount')
        batch_op.drop_column('voucher_id')
        batch_op.drop_column('price_breakdown')
    op.drop_index('ix_voucher_entries_voucher_id', table_name='voucher_entries')
    op.drop_index(op.f('ix_voucher_entries_tenant_id'), table_name='voucher_entries')
    op.drop_table('voucher_entries')
    op.drop_index(op.f('ix_code_uses_tenant_id'), table_name='code_uses')
    op.drop_index('ix_code_uses_code_customer', table_name='code_uses')
    op.drop_table('code_uses')
    op.drop_index(op.f('ix_offers_tenant_id'), table_name='offers')
    op.drop_table('offers')
    op.drop_index(op.f('ix_vouchers_tenant_id'), table_name='vouchers')
    op.drop_table('vouchers')
    op.drop_index(op.f('ix_promo_codes_tenant_id'), table_name='promo_codes')
    op.drop_table('promo_codes')
