"""Federation actors

Revision ID: 0017_federation_actors
Revises: 0016_federation_transport
Create Date: 2026-12-06 03:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import maillage.platform.db


# revision identifiers, used by Alembic.
revision = '0017_federation_actors'
down_revision = '0016_federation_transport'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('actor_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('is_instance', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('key_id', sa.String(length=600), nullable=False),
    sa.Column('public_key_pem', sa.Text(), nullable=False),
    sa.Column('private_key_pem', sa.Text(), nullable=False),
    sa.Column('created_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_actor_keys_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_actor_keys_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_actor_keys')),
    sa.UniqueConstraint('community_id', name=op.f('uq_actor_keys_community_id')),
    sa.UniqueConstraint('key_id', name=op.f('uq_actor_keys_key_id')),
    sa.UniqueConstraint('user_id', name=op.f('uq_actor_keys_user_id'))
    )
    with op.batch_alter_table('actor_keys', schema=None) as batch_op:
        batch_op.create_index('uq_actor_keys_instance', ['is_instance'], unique=True, sqlite_where=sa.text('is_instance = 1'), postgresql_where=sa.text('is_instance'))

    op.create_table('remote_actors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ap_id', sa.String(length=500), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('preferred_username', sa.String(length=255), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('inbox', sa.String(length=500), nullable=False),
    sa.Column('shared_inbox', sa.String(length=500), nullable=True),
    sa.Column('outbox', sa.String(length=500), nullable=True),
    sa.Column('followers', sa.String(length=500), nullable=True),
    sa.Column('featured', sa.String(length=500), nullable=True),
    sa.Column('moderators', sa.String(length=500), nullable=True),
    sa.Column('public_key_id', sa.String(length=600), nullable=True),
    sa.Column('public_key_pem', sa.Text(), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('icon_url', sa.String(length=1000), nullable=True),
    sa.Column('url', sa.String(length=1000), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('raw', sa.JSON(), nullable=False),
    sa.Column('fetched_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_remote_actors_community_id_communities'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_remote_actors_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remote_actors')),
    sa.UniqueConstraint('ap_id', name=op.f('uq_remote_actors_ap_id')),
    sa.UniqueConstraint('community_id', name=op.f('uq_remote_actors_community_id')),
    sa.UniqueConstraint('user_id', name=op.f('uq_remote_actors_user_id'))
    )
    with op.batch_alter_table('remote_actors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remote_actors_domain'), ['domain'], unique=False)
        batch_op.create_index(batch_op.f('ix_remote_actors_public_key_id'), ['public_key_id'], unique=False)


def downgrade():
    with op.batch_alter_table('remote_actors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_remote_actors_public_key_id'))
        batch_op.drop_index(batch_op.f('ix_remote_actors_domain'))
    op.drop_table('remote_actors')

    with op.batch_alter_table('actor_keys', schema=None) as batch_op:
        batch_op.drop_index('uq_actor_keys_instance')
    op.drop_table('actor_keys')
