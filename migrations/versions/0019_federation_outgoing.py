"""Federation outgoing

Revision ID: 0019_federation_outgoing
Revises: 0018_federation_groups
Create Date: 2026-12-06 03:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019_federation_outgoing'
down_revision = '0018_federation_groups'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('remote_follows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('follow_activity_id', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_remote_follows_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_remote_follows_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remote_follows')),
    sa.UniqueConstraint('follow_activity_id', name=op.f('uq_remote_follows_follow_activity_id')),
    sa.UniqueConstraint('user_id', 'community_id', name=op.f('uq_remote_follows_user_id_community_id'))
    )
    with op.batch_alter_table('remote_follows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remote_follows_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_remote_follows_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('remote_follows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_remote_follows_user_id'))
        batch_op.drop_index(batch_op.f('ix_remote_follows_community_id'))

    op.drop_table('remote_follows')
