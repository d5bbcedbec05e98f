"""Federation ids never reused and tombstones

Revision ID: 0029_federation_tombstones
Revises: 0028_worker_health
Create Date: 2026-12-07 17:30:00.000000

- SQLite: the tables of every federated kind are rebuilt with ``AUTOINCREMENT`` (without it
  SQLite hands the id of the last deleted row out again, and the ActivityPub id made of it), rows,
  ids, indexes, constraints and foreign keys kept; the sequence starts past every id the audit log
  ever named, so the ids of rows deleted before this migration are not handed out either.
  PostgreSQL sequences never go back: nothing to do there.
- ``federation_tombstones``: ids of deleted local objects, never issued again (410 Gone when
  the object was public, else 404 like an unknown id).
- ``federation_media``: our re-encoded copies of the images of remote content.
- ``federation_removal_checks``: removals of remote objects to read back from their origin.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0029_federation_tombstones'
down_revision = '0028_worker_health'
branch_labels = None
depends_on = None

#: Federated tables, and the ``object_type`` their rows have in the audit log.
FEDERATED_TABLES = {
    'users': 'user',
    'communities': 'community',
    'posts': 'post',
    'comments': 'comment',
    'discussion_topics': 'discussiontopic',
    'discussion_replies': 'discussionreply',
    'events': 'event',
}


def upgrade():
    _rebuild_on_sqlite(autoincrement=True)
    op.create_table('federation_tombstones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('ap_id', sa.String(length=500), nullable=True),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_federation_tombstones')),
    sa.UniqueConstraint('digest', name=op.f('uq_federation_tombstones_digest'))
    )
    op.create_table('federation_media',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url_digest', sa.String(length=64), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('storage_key', sa.String(length=32), nullable=False),
    sa.Column('mime', sa.String(length=20), nullable=False),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_federation_media')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_federation_media_storage_key')),
    sa.UniqueConstraint('url_digest', name=op.f('uq_federation_media_url_digest'))
    )
    op.create_table('federation_removal_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('object_ap_id', sa.String(length=500), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('activity_id', sa.String(length=2048), nullable=True),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_federation_removal_checks_community_id_communities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_federation_removal_checks'))
    )
    with op.batch_alter_table('federation_removal_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_federation_removal_checks_community_id'), ['community_id'], unique=False)
        batch_op.create_index('ix_federation_removal_checks_due', ['state', 'due_at'], unique=False)


def downgrade():
    with op.batch_alter_table('federation_removal_checks', schema=None) as batch_op:
        batch_op.drop_index('ix_federation_removal_checks_due')
        batch_op.drop_index(batch_op.f('ix_federation_removal_checks_community_id'))

    op.drop_table('federation_removal_checks')
    op.drop_table('federation_media')
    op.drop_table('federation_tombstones')
    _rebuild_on_sqlite(autoincrement=False)


def _rebuild_on_sqlite(*, autoincrement: bool) -> None:
    """Rebuild the federated tables with (or without) ``AUTOINCREMENT`` on SQLite.

    SQLite cannot add it to a table: each is copied into a new one (batch ``recreate``), which
    drops the old table.  With foreign keys enforced, that drop would delete (cascade) or refuse
    because of the rows of every table that refers to it: enforcement is switched off around
    the rebuild — outside any transaction, the only place SQLite accepts it — and the foreign
    keys are checked before it is switched on again.
    """
    if op.get_bind().dialect.name != 'sqlite':
        return
    context = op.get_context()
    with context.autocommit_block():
        op.execute('PRAGMA foreign_keys = OFF')
    try:
        for table in FEDERATED_TABLES:
            with op.batch_alter_table(
                table, recreate='always', table_kwargs={'sqlite_autoincrement': autoincrement}
            ):
                pass
        if autoincrement:
            _skip_audited_ids()
        problems = op.get_bind().exec_driver_sql('PRAGMA foreign_key_check').fetchall()
        if problems:
            raise RuntimeError(f'foreign keys broken by the rebuild: {problems[:5]}')
    finally:
        with context.autocommit_block():
            op.execute('PRAGMA foreign_keys = ON')


def _skip_audited_ids() -> None:
    """Start each table's sequence past the highest id the audit log names for its kind: a row
    deleted before this migration may have been the last one, and its id must not come back."""
    bind = op.get_bind()
    for table, object_type in FEDERATED_TABLES.items():
        highest = bind.execute(
            sa.text(
                f'SELECT max(coalesce((SELECT max(id) FROM {table}), 0), coalesce(('
                'SELECT max(object_id) FROM audit_log WHERE object_type = :kind), 0))'
            ),
            {'kind': object_type},
        ).scalar()
        if not highest:
            continue
        bind.execute(sa.text('DELETE FROM sqlite_sequence WHERE name = :name'), {'name': table})
        bind.execute(
            sa.text('INSERT INTO sqlite_sequence (name, seq) VALUES (:name, :seq)'),
            {'name': table, 'seq': highest},
        )
