"""documents: folders, documents, versions

Revision ID: 0006_documents
Revises: 0005_events
Create Date: 2026-11-24 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import maillage.platform.db


# revision identifiers, used by Alembic.
revision = '0006_documents'
down_revision = '0005_events'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('document_folders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_document_folders_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_document_folders_created_by_id_users')),
    sa.ForeignKeyConstraint(['parent_id'], ['document_folders.id'], name=op.f('fk_document_folders_parent_id_document_folders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_folders'))
    )
    with op.batch_alter_table('document_folders', schema=None) as batch_op:
        batch_op.create_index('ix_document_folders_community_parent', ['community_id', 'parent_id'], unique=False)

    # documents.current_version_id -> document_versions is added once both tables exist.
    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('folder_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('uploader_id', sa.Integer(), nullable=False),
    sa.Column('current_version_id', sa.Integer(), nullable=True),
    sa.Column('version_count', sa.Integer(), nullable=False),
    sa.Column('ap_id', sa.String(length=500), nullable=True),
    sa.Column('local', sa.Boolean(), nullable=False),
    sa.Column('created_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_documents_community_id_communities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['folder_id'], ['document_folders.id'], name=op.f('fk_documents_folder_id_document_folders')),
    sa.ForeignKeyConstraint(['uploader_id'], ['users.id'], name=op.f('fk_documents_uploader_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
    sa.UniqueConstraint('ap_id', name=op.f('uq_documents_ap_id'))
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index('ix_documents_community_folder', ['community_id', 'folder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_uploader_id'), ['uploader_id'], unique=False)

    op.create_table('document_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=64), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('type_key', sa.String(length=10), nullable=False),
    sa.Column('mime_type', sa.String(length=100), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploader_id', sa.Integer(), nullable=False),
    sa.Column('comment', sa.String(length=500), nullable=False),
    sa.Column('restored_from', sa.Integer(), nullable=True),
    sa.Column('preview_status', sa.String(length=12), nullable=False),
    sa.Column('preview_key', sa.String(length=64), nullable=True),
    sa.Column('image_width', sa.Integer(), nullable=True),
    sa.Column('image_height', sa.Integer(), nullable=True),
    sa.Column('created_at', maillage.platform.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_versions_document_id_documents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploader_id'], ['users.id'], name=op.f('fk_document_versions_uploader_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_versions')),
    sa.UniqueConstraint('document_id', 'number', name=op.f('uq_document_versions_document_id_number')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_document_versions_storage_key'))
    )
    with op.batch_alter_table('document_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_versions_uploader_id'), ['uploader_id'], unique=False)

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_documents_current_version_id_document_versions', 'document_versions', ['current_version_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_constraint('fk_documents_current_version_id_document_versions', type_='foreignkey')

    with op.batch_alter_table('document_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_versions_uploader_id'))

    op.drop_table('document_versions')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_uploader_id'))
        batch_op.drop_index('ix_documents_community_folder')

    op.drop_table('documents')
    with op.batch_alter_table('document_folders', schema=None) as batch_op:
        batch_op.drop_index('ix_document_folders_community_parent')

    op.drop_table('document_folders')
