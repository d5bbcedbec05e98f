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
    pass


def downgrade():
    pass
