"""First run

Revision ID: 0020_first_run
Revises: 0019_federation_outgoing
Create Date: 2026-12-07 14:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_first_run'
down_revision = '0019_federation_outgoing'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('instance_state',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('setup_completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('setup_completed_via', sa.String(length=20), nullable=True),
    sa.CheckConstraint('id = 1', name=op.f('ck_instance_state_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instance_state'))
    )
    op.create_table('setup_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_setup_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_setup_tokens_token_hash'))
    )
    # Installations that already have accounts were set up before first-run setup existed.
    op.execute(
        "INSERT INTO instance_state (id, setup_completed_at, setup_completed_via) "
        "SELECT 1, CURRENT_TIMESTAMP, 'existing' WHERE EXISTS (SELECT 1 FROM users)"
    )


def downgrade():
    op.drop_table('setup_tokens')
    op.drop_table('instance_state')
