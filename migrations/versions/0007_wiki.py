"""wiki: pages in a tree per community, with their revisions

Revision ID: 0007_wiki
Revises: 0006_documents
Create Date: 2026-11-23 15:00:00

"""
from alembic import op
import sqlalchemy as sa

import maillage.platform.db


# revision identifiers, used by Alembic.
revision = '0007_wiki'
down_revision = '0006_documents'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('wiki_pages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('body_source', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('is_faq', sa.Boolean(), nullable=False),
    sa.Column('current_revision', sa.Integer(), nullable=False),
    sa.Column('edited_by_others', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('ap_id', sa.String(length=500), nullable=True),
    sa.Column('local', sa.Boolean(), nullable=False),
    sa.Column('created_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_wiki_pages_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_wiki_pages_created_by_id_users')),
    sa.ForeignKeyConstraint(['parent_id'], ['wiki_pages.id'], name=op.f('fk_wiki_pages_parent_id_wiki_pages')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_wiki_pages_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wiki_pages')),
    sa.UniqueConstraint('ap_id', name=op.f('uq_wiki_pages_ap_id')),
    sa.UniqueConstraint('community_id', 'slug', name=op.f('uq_wiki_pages_community_id_slug'))
    )
    with op.batch_alter_table('wiki_pages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wiki_pages_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_wiki_pages_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index('ix_wiki_pages_tree', ['community_id', 'parent_id', 'position'], unique=False)

    op.create_table('wiki_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body_source', sa.Text(), nullable=False),
    sa.Column('comment', sa.String(length=300), nullable=False),
    sa.Column('restored_from', sa.Integer(), nullable=True),
    sa.Column('created_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_wiki_revisions_author_id_users')),
    sa.ForeignKeyConstraint(['page_id'], ['wiki_pages.id'], name=op.f('fk_wiki_revisions_page_id_wiki_pages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wiki_revisions')),
    sa.UniqueConstraint('page_id', 'number', name=op.f('uq_wiki_revisions_page_id_number'))
    )
    with op.batch_alter_table('wiki_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wiki_revisions_author_id'), ['author_id'], unique=False)


def downgrade():
    with op.batch_alter_table('wiki_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wiki_revisions_author_id'))

    op.drop_table('wiki_revisions')
    with op.batch_alter_table('wiki_pages', schema=None) as batch_op:
        batch_op.drop_index('ix_wiki_pages_tree')
        batch_op.drop_index(batch_op.f('ix_wiki_pages_parent_id'))
        batch_op.drop_index(batch_op.f('ix_wiki_pages_created_by_id'))

    op.drop_table('wiki_pages')
