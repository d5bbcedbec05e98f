"""discussions: topics, replies, read state

Revision ID: 0004_discussions
Revises: 0003
Create Date: 2026-11-23 14:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import maillage.platform.db


# revision identifiers, used by Alembic.
revision = '0004_discussions'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('discussion_read_marks',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('all_read_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_discussion_read_marks_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_discussion_read_marks_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'community_id', name=op.f('pk_discussion_read_marks'))
    )
    with op.batch_alter_table('discussion_read_marks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_discussion_read_marks_community_id'), ['community_id'], unique=False)

    # The answer's foreign key is added once discussion_replies exists (the tables refer to
    # each other).
    op.create_table('discussion_topics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body_source', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('reply_count', sa.Integer(), nullable=False),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.Column('answered_reply_id', sa.Integer(), nullable=True),
    sa.Column('ap_id', sa.String(length=500), nullable=True),
    sa.Column('local', sa.Boolean(), nullable=False),
    sa.Column('created_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_activity_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_discussion_topics_author_id_users')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_discussion_topics_community_id_communities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_discussion_topics')),
    sa.UniqueConstraint('ap_id', name=op.f('uq_discussion_topics_ap_id'))
    )
    with op.batch_alter_table('discussion_topics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_discussion_topics_author_id'), ['author_id'], unique=False)
        batch_op.create_index('ix_discussion_topics_listing', ['community_id', 'pinned', 'last_activity_at', 'id'], unique=False)

    op.create_table('discussion_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body_source', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('quoted_reply_id', sa.Integer(), nullable=True),
    sa.Column('ap_id', sa.String(length=500), nullable=True),
    sa.Column('local', sa.Boolean(), nullable=False),
    sa.Column('created_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_discussion_replies_author_id_users')),
    sa.ForeignKeyConstraint(['quoted_reply_id'], ['discussion_replies.id'], name=op.f('fk_discussion_replies_quoted_reply_id_discussion_replies'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['topic_id'], ['discussion_topics.id'], name=op.f('fk_discussion_replies_topic_id_discussion_topics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_discussion_replies')),
    sa.UniqueConstraint('ap_id', name=op.f('uq_discussion_replies_ap_id'))
    )
    with op.batch_alter_table('discussion_replies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_discussion_replies_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_discussion_replies_quoted_reply_id'), ['quoted_reply_id'], unique=False)
        batch_op.create_index('ix_discussion_replies_topic_created', ['topic_id', 'created_at', 'id'], unique=False)

    with op.batch_alter_table('discussion_topics', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_discussion_topics_answered_reply_id_discussion_replies'), 'discussion_replies', ['answered_reply_id'], ['id'], ondelete='SET NULL')

    op.create_table('discussion_topic_reads',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('last_read_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['topic_id'], ['discussion_topics.id'], name=op.f('fk_discussion_topic_reads_topic_id_discussion_topics'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_discussion_topic_reads_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'topic_id', name=op.f('pk_discussion_topic_reads'))
    )
    with op.batch_alter_table('discussion_topic_reads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_discussion_topic_reads_topic_id'), ['topic_id'], unique=False)


def downgrade():
    with op.batch_alter_table('discussion_topic_reads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_discussion_topic_reads_topic_id'))
    op.drop_table('discussion_topic_reads')

    with op.batch_alter_table('discussion_topics', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_discussion_topics_answered_reply_id_discussion_replies'), type_='foreignkey')

    with op.batch_alter_table('discussion_replies', schema=None) as batch_op:
        batch_op.drop_index('ix_discussion_replies_topic_created')
        batch_op.drop_index(batch_op.f('ix_discussion_replies_quoted_reply_id'))
        batch_op.drop_index(batch_op.f('ix_discussion_replies_author_id'))
    op.drop_table('discussion_replies')

    with op.batch_alter_table('discussion_topics', schema=None) as batch_op:
        batch_op.drop_index('ix_discussion_topics_listing')
        batch_op.drop_index(batch_op.f('ix_discussion_topics_author_id'))
    op.drop_table('discussion_topics')

    with op.batch_alter_table('discussion_read_marks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_discussion_read_marks_community_id'))
    op.drop_table('discussion_read_marks')
