"""Legal pages

Revision ID: 0025_legal_pages
Revises: 0024_account_deletion
Create Date: 2026-12-07 14:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0025_legal_pages'
down_revision = '0024_account_deletion'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('legal_pages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=40), nullable=False),
    sa.Column('source_fr', sa.Text(), nullable=False),
    sa.Column('html_fr', sa.Text(), nullable=False),
    sa.Column('source_en', sa.Text(), server_default='', nullable=False),
    sa.Column('html_en', sa.Text(), server_default='', nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_pages')),
    sa.UniqueConstraint('slug', name=op.f('uq_legal_pages_slug'))
    )
    op.create_table('accessibility_statements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=10), server_default='non', nullable=False),
    sa.Column('compliance_rate', sa.Float(), nullable=True),
    sa.Column('audit_date', sa.Date(), nullable=True),
    sa.Column('auditor', sa.String(length=200), server_default='', nullable=False),
    sa.Column('statement_date', sa.Date(), nullable=True),
    sa.Column('technologies', sa.String(length=300), server_default='', nullable=False),
    sa.Column('test_environment', sa.Text(), server_default='', nullable=False),
    sa.Column('contact_email', sa.String(length=254), server_default='', nullable=False),
    sa.Column('contact_url', sa.String(length=500), server_default='', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accessibility_statements'))
    )


def downgrade():
    op.drop_table('accessibility_statements')
    op.drop_table('legal_pages')
