"""Analytics

Revision ID: 0014_analytics
Revises: 0013_moderation
Create Date: 2026-12-06 03:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import maillage.platform.db


# revision identifiers, used by Alembic.
revision = '0014_analytics'
down_revision = '0013_moderation'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('activity_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', maillage.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=True),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_activity_events_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_activity_events_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_events'))
    )
    with op.batch_alter_table('activity_events', schema=None) as batch_op:
        batch_op.create_index('ix_activity_events_community_day', ['community_id', 'day', 'kind', 'user_id'], unique=False)
        batch_op.create_index('ix_activity_events_day_kind', ['day', 'kind', 'user_id'], unique=False)
        batch_op.create_index('ix_activity_events_user_kind_day', ['user_id', 'kind', 'day'], unique=False)


def downgrade():
    with op.batch_alter_table('activity_events', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_events_user_kind_day')
        batch_op.drop_index('ix_activity_events_day_kind')
        batch_op.drop_index('ix_activity_events_community_day')

    op.drop_table('activity_events')
