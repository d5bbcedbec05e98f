"""Organisations admin

Revision ID: 0021_organisations_admin
Revises: 0020_first_run
Create Date: 2026-12-07 14:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

import maillage.platform.db


# revision identifiers, used by Alembic.
revision = '0021_organisations_admin'
down_revision = '0020_first_run'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('siren', sa.String(length=9), nullable=True))
        batch_op.add_column(sa.Column('status', sa.String(length=12), server_default='active', nullable=False))
        batch_op.add_column(sa.Column('source', sa.String(length=10), server_default='admin', nullable=False))
        batch_op.add_column(sa.Column('proposed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('logo_key', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('deactivated_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(batch_op.f('ck_organisations_siren_length'), 'siren IS NULL OR length(siren) = 9')
        batch_op.create_index(batch_op.f('ix_organisations_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisations_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisations_siren'), ['siren'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisations_status'), ['status'], unique=False)

    op.execute("UPDATE organisations SET siren = substr(siret, 1, 9) WHERE siret IS NOT NULL")

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('charter_accepted_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('charter_accepted_at')

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisations_status'))
        batch_op.drop_index(batch_op.f('ix_organisations_siren'))
        batch_op.drop_index(batch_op.f('ix_organisations_parent_id'))
        batch_op.drop_index(batch_op.f('ix_organisations_name'))
        batch_op.drop_constraint(batch_op.f('ck_organisations_siren_length'), type_='check')
        batch_op.drop_column('deactivated_at')
        batch_op.drop_column('logo_key')
        batch_op.drop_column('proposed_by_id')
        batch_op.drop_column('source')
        batch_op.drop_column('status')
        batch_op.drop_column('siren')
