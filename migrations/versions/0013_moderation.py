"""Moderation

Revision ID: 0013_moderation
Revises: 0012_console_animation
Create Date: 2026-12-06 03:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import maillage.platform.db


# revision identifiers, used by Alembic.
revision = '0013_moderation'
down_revision = '0012_console_animation'
branch_labels = None
depends_on = None

HIDDEN_TABLES = ('posts', 'comments', 'discussion_topics', 'discussion_replies')


def _datetime():
    return maillage.platform.db.UTCDateTime(timezone=True)


def upgrade():
    op.create_table('moderation_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('object_type', sa.String(length=16), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', _datetime(), nullable=False),
    sa.Column('handled_at', _datetime(), nullable=True),
    sa.Column('handled_by_id', sa.Integer(), nullable=True),
    sa.Column('resolution', sa.String(length=16), server_default='', nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_moderation_reports_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['handled_by_id'], ['users.id'], name=op.f('fk_moderation_reports_handled_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], name=op.f('fk_moderation_reports_reporter_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderation_reports'))
    )
    with op.batch_alter_table('moderation_reports', schema=None) as batch_op:
        batch_op.create_index('ix_moderation_reports_object', ['object_type', 'object_id'], unique=False)
        batch_op.create_index('ix_moderation_reports_queue', ['community_id', 'status', 'created_at'], unique=False)
        batch_op.create_index('ix_moderation_reports_reporter_created', ['reporter_id', 'created_at'], unique=False)
        batch_op.create_index('uq_moderation_reports_open', ['reporter_id', 'object_type', 'object_id'], unique=True, sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))

    op.create_table('moderation_sanctions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', _datetime(), nullable=False),
    sa.Column('ends_at', _datetime(), nullable=True),
    sa.Column('lifted_at', _datetime(), nullable=True),
    sa.Column('lifted_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_moderation_sanctions_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_moderation_sanctions_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lifted_by_id'], ['users.id'], name=op.f('fk_moderation_sanctions_lifted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_moderation_sanctions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderation_sanctions'))
    )
    with op.batch_alter_table('moderation_sanctions', schema=None) as batch_op:
        batch_op.create_index('ix_moderation_sanctions_community_created', ['community_id', 'created_at'], unique=False)
        batch_op.create_index('ix_moderation_sanctions_user_community', ['user_id', 'community_id'], unique=False)

    for table in HIDDEN_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('hidden_at', _datetime(), nullable=True))
            batch_op.add_column(sa.Column('hidden_reason', sa.Text(), server_default='', nullable=False))
            batch_op.add_column(sa.Column('hidden_by_id', sa.Integer(), nullable=True))
            if table in ('posts', 'discussion_topics'):
                batch_op.add_column(sa.Column('locked_at', _datetime(), nullable=True))
            batch_op.create_foreign_key(batch_op.f(f'fk_{table}_hidden_by_id_users'), 'users', ['hidden_by_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('community_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_audit_log_community_created', ['community_id', 'created_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_audit_log_community_id_communities'), 'communities', ['community_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_audit_log_community_id_communities'), type_='foreignkey')
        batch_op.drop_index('ix_audit_log_community_created')
        batch_op.drop_column('community_id')

    for table in reversed(HIDDEN_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_hidden_by_id_users'), type_='foreignkey')
            if table in ('posts', 'discussion_topics'):
                batch_op.drop_column('locked_at')
            batch_op.drop_column('hidden_by_id')
            batch_op.drop_column('hidden_reason')
            batch_op.drop_column('hidden_at')

    with op.batch_alter_table('moderation_sanctions', schema=None) as batch_op:
        batch_op.drop_index('ix_moderation_sanctions_user_community')
        batch_op.drop_index('ix_moderation_sanctions_community_created')
    op.drop_table('moderation_sanctions')

    with op.batch_alter_table('moderation_reports', schema=None) as batch_op:
        batch_op.drop_index('uq_moderation_reports_open', sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
        batch_op.drop_index('ix_moderation_reports_reporter_created')
        batch_op.drop_index('ix_moderation_reports_queue')
        batch_op.drop_index('ix_moderation_reports_object')
    op.drop_table('moderation_reports')
