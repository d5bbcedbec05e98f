"""polls and surveys (questions, options, participations, named choices); kanban tasks

Revision ID: 0008_polls_kanban
Revises: 0007_wiki
Create Date: 2026-11-23 16:00:00

"""
from alembic import op
import sqlalchemy as sa

import maillage.platform.db


# revision identifiers, used by Alembic.
revision = '0008_polls_kanban'
down_revision = '0007_wiki'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('kanban_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description_source', sa.Text(), nullable=False),
    sa.Column('description_html', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('done_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_kanban_tasks_assignee_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_kanban_tasks_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_kanban_tasks_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kanban_tasks'))
    )
    with op.batch_alter_table('kanban_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kanban_tasks_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index('ix_kanban_tasks_column', ['community_id', 'status', 'position', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_kanban_tasks_created_by_id'), ['created_by_id'], unique=False)

    op.create_table('polls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description_source', sa.Text(), nullable=False),
    sa.Column('description_html', sa.Text(), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('results_visibility', sa.String(length=16), nullable=False),
    sa.Column('closes_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('voter_count', sa.Integer(), nullable=False),
    sa.Column('ap_id', sa.String(length=500), nullable=True),
    sa.Column('local', sa.Boolean(), nullable=False),
    sa.Column('created_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_polls_author_id_users')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_polls_closed_by_id_users')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_polls_community_id_communities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_polls')),
    sa.UniqueConstraint('ap_id', name=op.f('uq_polls_ap_id'))
    )
    with op.batch_alter_table('polls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_polls_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_polls_closes_at'), ['closes_at'], unique=False)
        batch_op.create_index('ix_polls_community_created', ['community_id', 'created_at', 'id'], unique=False)

    op.create_table('poll_participations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('poll_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('voted_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['poll_id'], ['polls.id'], name=op.f('fk_poll_participations_poll_id_polls'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_poll_participations_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_poll_participations')),
    sa.UniqueConstraint('poll_id', 'user_id', name=op.f('uq_poll_participations_poll_id_user_id'))
    )
    with op.batch_alter_table('poll_participations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_poll_participations_user_id'), ['user_id'], unique=False)

    op.create_table('poll_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('poll_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=300), nullable=False),
    sa.Column('multiple', sa.Boolean(), nullable=False),
    sa.Column('max_choices', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['poll_id'], ['polls.id'], name=op.f('fk_poll_questions_poll_id_polls'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_poll_questions')),
    sa.UniqueConstraint('poll_id', 'position', name=op.f('uq_poll_questions_poll_id_position'))
    )
    op.create_table('poll_options',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('poll_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('vote_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['poll_id'], ['polls.id'], name=op.f('fk_poll_options_poll_id_polls'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['poll_questions.id'], name=op.f('fk_poll_options_question_id_poll_questions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_poll_options')),
    sa.UniqueConstraint('question_id', 'position', name=op.f('uq_poll_options_question_id_position'))
    )
    with op.batch_alter_table('poll_options', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_poll_options_poll_id'), ['poll_id'], unique=False)

    op.create_table('poll_choices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('poll_id', sa.Integer(), nullable=False),
    sa.Column('participation_id', sa.Integer(), nullable=False),
    sa.Column('option_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['option_id'], ['poll_options.id'], name=op.f('fk_poll_choices_option_id_poll_options'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participation_id'], ['poll_participations.id'], name=op.f('fk_poll_choices_participation_id_poll_participations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['poll_id'], ['polls.id'], name=op.f('fk_poll_choices_poll_id_polls'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_poll_choices')),
    sa.UniqueConstraint('participation_id', 'option_id', name=op.f('uq_poll_choices_participation_id_option_id'))
    )
    with op.batch_alter_table('poll_choices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_poll_choices_option_id'), ['option_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_poll_choices_poll_id'), ['poll_id'], unique=False)


def downgrade():
    with op.batch_alter_table('poll_choices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_poll_choices_poll_id'))
        batch_op.drop_index(batch_op.f('ix_poll_choices_option_id'))

    op.drop_table('poll_choices')
    with op.batch_alter_table('poll_options', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_poll_options_poll_id'))

    op.drop_table('poll_options')
    op.drop_table('poll_questions')
    with op.batch_alter_table('poll_participations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_poll_participations_user_id'))

    op.drop_table('poll_participations')
    with op.batch_alter_table('polls', schema=None) as batch_op:
        batch_op.drop_index('ix_polls_community_created')
        batch_op.drop_index(batch_op.f('ix_polls_closes_at'))
        batch_op.drop_index(batch_op.f('ix_polls_author_id'))

    op.drop_table('polls')
    with op.batch_alter_table('kanban_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kanban_tasks_created_by_id'))
        batch_op.drop_index('ix_kanban_tasks_column')
        batch_op.drop_index(batch_op.f('ix_kanban_tasks_assignee_id'))

    op.drop_table('kanban_tasks')
