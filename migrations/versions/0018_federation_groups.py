"""Federation groups and inbox

Revision ID: 0018_federation_groups
Revises: 0017_federation_actors
Create Date: 2026-12-06 03:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import maillage.platform.db


# revision identifiers, used by Alembic.
revision = '0018_federation_groups'
down_revision = '0017_federation_actors'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('inbox_activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.String(length=1000), nullable=False),
    sa.Column('actor_ap_id', sa.String(length=500), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('key_id', sa.String(length=600), nullable=False),
    sa.Column('inbox_path', sa.String(length=300), nullable=False),
    sa.Column('received_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease', sa.String(length=32), nullable=True),
    sa.Column('available_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('processed_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox_activities')),
    sa.UniqueConstraint('activity_id', name=op.f('uq_inbox_activities_activity_id'))
    )
    with op.batch_alter_table('inbox_activities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbox_activities_actor_ap_id'), ['actor_ap_id'], unique=False)
        batch_op.create_index('ix_inbox_activities_pending', ['status', 'available_at'], unique=False)

    op.create_table('group_followers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('remote_actor_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('follow_activity_id', sa.String(length=1000), nullable=False),
    sa.Column('created_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_group_followers_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['remote_actor_id'], ['remote_actors.id'], name=op.f('fk_group_followers_remote_actor_id_remote_actors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_followers')),
    sa.UniqueConstraint('community_id', 'remote_actor_id', name=op.f('uq_group_followers_community_id_remote_actor_id'))
    )
    with op.batch_alter_table('group_followers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_followers_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_group_followers_remote_actor_id'), ['remote_actor_id'], unique=False)


def downgrade():
    with op.batch_alter_table('group_followers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_followers_remote_actor_id'))
        batch_op.drop_index(batch_op.f('ix_group_followers_community_id'))
    op.drop_table('group_followers')
    with op.batch_alter_table('inbox_activities', schema=None) as batch_op:
        batch_op.drop_index('ix_inbox_activities_pending')
        batch_op.drop_index(batch_op.f('ix_inbox_activities_actor_ap_id'))
    op.drop_table('inbox_activities')
