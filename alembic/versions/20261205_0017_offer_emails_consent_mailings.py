"""Offer emails: customers' consents per business, the mailings staff send
and their recipients (unsubscribe digests), extra headers on outbox rows

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 08:00:00
"""

from alembic import op
import sqlalchemy as sa


import booking.models.types

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'marketing_consents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('given_at', booking.models.types.UTCDateTime(), nullable=False),
        sa.Column('wording', sa.Text(), nullable=False),
        sa.Column('locale', sa.String(length=10), nullable=False),
        sa.Column('how', sa.String(length=20), nullable=False),
        sa.Column('withdrawn_at', booking.models.types.UTCDateTime(), nullable=True),
        sa.Column('withdrawn_how', sa.String(length=20), server_default='', nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'],
                                name=op.f('fk_marketing_consents_tenant_id_tenants'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_marketing_consents_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_marketing_consents')),
    )
    with op.batch_alter_table('marketing_consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_marketing_consents_tenant_id'), ['tenant_id'],
                              unique=False)
        batch_op.create_index('ix_marketing_consents_user_id', ['user_id'], unique=False)
        batch_op.create_index('uq_marketing_consents_live', ['tenant_id', 'user_id'],
                              unique=True, postgresql_where=sa.text('withdrawn_at IS NULL'),
                              sqlite_where=sa.text('withdrawn_at IS NULL'))

    op.create_table(
        'offer_mailings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('venue_id', sa.Integer(), nullable=True),
        sa.Column('resource_id', sa.Integer(), nullable=True),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', booking.models.types.UTCDateTime(), nullable=False),
        sa.Column('sent_at', booking.models.types.UTCDateTime(), nullable=True),
        sa.Column('recipients', sa.Integer(), server_default='0', nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'],
                                name=op.f('fk_offer_mailings_created_by_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['resource_id'], ['resources.id'],
                                name=op.f('fk_offer_mailings_resource_id_resources'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'],
                                name=op.f('fk_offer_mailings_tenant_id_tenants'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['venue_id'], ['venues.id'],
                                name=op.f('fk_offer_mailings_venue_id_venues'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_offer_mailings')),
    )
    with op.batch_alter_table('offer_mailings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_mailings_tenant_id'), ['tenant_id'],
                              unique=False)

    op.create_table(
        'offer_recipients',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('mailing_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['mailing_id'], ['offer_mailings.id'],
                                name=op.f('fk_offer_recipients_mailing_id_offer_mailings'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'],
                                name=op.f('fk_offer_recipients_tenant_id_tenants'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_offer_recipients_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_offer_recipients')),
        sa.UniqueConstraint('digest', name=op.f('uq_offer_recipients_digest')),
    )
    with op.batch_alter_table('offer_recipients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_recipients_mailing_id'), ['mailing_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_offer_recipients_tenant_id'), ['tenant_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_offer_recipients_user_id'), ['user_id'],
                              unique=False)

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('headers', sa.JSON(), server_default='{}', nullable=False))


def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('headers')
    op.drop_table('offer_recipients')
    op.drop_table('offer_mailings')
    op.drop_table('marketing_consents')
