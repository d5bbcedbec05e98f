"""Federation transport

Revision ID: 0016_federation_transport
Revises: 0015_training
Create Date: 2026-12-06 03:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_federation_transport'
down_revision = '0015_training'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('federation_instances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('policy', sa.String(length=10), nullable=True),
    sa.Column('policy_reason', sa.Text(), nullable=False),
    sa.Column('software', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dead_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('circuit_open_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_federation_instances')),
    sa.UniqueConstraint('domain', name=op.f('uq_federation_instances_domain'))
    )
    op.create_table('federation_settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_federation_settings_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_federation_settings'))
    )
    op.create_table('federation_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=64), nullable=False),
    sa.Column('activity_id', sa.String(length=2048), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('inbox_url', sa.String(length=2048), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('signer_ap_id', sa.String(length=2048), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('lease', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_federation_deliveries')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_federation_deliveries_dedupe_key'))
    )
    op.create_index('ix_federation_deliveries_due', 'federation_deliveries', ['status', 'host', 'next_attempt_at'], unique=False)


def downgrade():
    op.drop_index('ix_federation_deliveries_due', table_name='federation_deliveries')
    op.drop_table('federation_deliveries')
    op.drop_table('federation_settings')
    op.drop_table('federation_instances')
