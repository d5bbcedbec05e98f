"""notifications and notification preferences

Revision ID: 0010_notifications
Revises: 0008_polls_kanban
Create Date: 2026-11-24 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import maillage.platform.db


# revision identifiers, used by Alembic.
revision = '0010_notifications'
down_revision = '0008_polls_kanban'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('object_type', sa.String(length=64), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('created_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('emailed_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_notifications_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_notifications_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['users.id'], name=op.f('fk_notifications_recipient_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_recipient_created', ['recipient_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_notifications_unread', ['recipient_id', 'created_at'], unique=False, sqlite_where=sa.text('read_at IS NULL'), postgresql_where=sa.text('read_at IS NULL'))
        batch_op.create_index('uq_notifications_unread_object', ['recipient_id', 'object_type', 'object_id', 'reason'], unique=True, sqlite_where=sa.text('read_at IS NULL'), postgresql_where=sa.text('read_at IS NULL'))
        batch_op.create_index('ix_notifications_email_pending', ['recipient_id', 'community_id'], unique=False, sqlite_where=sa.text('emailed_at IS NULL AND read_at IS NULL'), postgresql_where=sa.text('emailed_at IS NULL AND read_at IS NULL'))
        batch_op.create_index('ix_notifications_object', ['object_type', 'object_id'], unique=False)

    op.create_table('notification_preferences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('updated_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_notification_preferences_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_preferences')),
    sa.UniqueConstraint('user_id', 'community_id', name=op.f('uq_notification_preferences_user_id_community_id'))
    )
    with op.batch_alter_table('notification_preferences', schema=None) as batch_op:
        batch_op.create_index('uq_notification_preferences_default', ['user_id'], unique=True, sqlite_where=sa.text('community_id IS NULL'), postgresql_where=sa.text('community_id IS NULL'))


def downgrade():
    with op.batch_alter_table('notification_preferences', schema=None) as batch_op:
        batch_op.drop_index('uq_notification_preferences_default', sqlite_where=sa.text('community_id IS NULL'), postgresql_where=sa.text('community_id IS NULL'))

    op.drop_table('notification_preferences')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_object')
        batch_op.drop_index('ix_notifications_email_pending', sqlite_where=sa.text('emailed_at IS NULL AND read_at IS NULL'), postgresql_where=sa.text('emailed_at IS NULL AND read_at IS NULL'))
        batch_op.drop_index('uq_notifications_unread_object', sqlite_where=sa.text('read_at IS NULL'), postgresql_where=sa.text('read_at IS NULL'))
        batch_op.drop_index('ix_notifications_unread', sqlite_where=sa.text('read_at IS NULL'), postgresql_where=sa.text('read_at IS NULL'))
        batch_op.drop_index('ix_notifications_recipient_created')

    op.drop_table('notifications')
