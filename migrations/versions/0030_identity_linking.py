"""Identity linking proofs and deprovisioning

Revision ID: 0030_identity_linking
Revises: 0029_federation_tombstones
Create Date: 2026-12-07 17:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0030_identity_linking'
down_revision = '0029_federation_tombstones'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('identity_link_proofs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('provider', sa.String(length=64), nullable=False),
    sa.Column('identifier', sa.String(length=500), nullable=False),
    sa.Column('info', sa.JSON(), nullable=False),
    sa.Column('next_url', sa.String(length=2000), nullable=True),
    sa.Column('remember', sa.Boolean(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=True),
    sa.Column('code_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('codes_sent', sa.Integer(), nullable=False),
    sa.Column('last_code_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_identity_link_proofs_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_link_proofs')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_identity_link_proofs_key_hash'))
    )
    with op.batch_alter_table('identity_link_proofs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_link_proofs_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_link_proofs_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('identities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deprovisioned_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('identities', schema=None) as batch_op:
        batch_op.drop_column('deprovisioned_at')

    with op.batch_alter_table('identity_link_proofs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_link_proofs_user_id'))
        batch_op.drop_index(batch_op.f('ix_identity_link_proofs_expires_at'))

    op.drop_table('identity_link_proofs')
