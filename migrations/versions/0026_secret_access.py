"""Secret access

Revision ID: 0026_secret_access
Revises: 0025_legal_pages
Create Date: 2026-12-07 14:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0026_secret_access'
down_revision = '0025_legal_pages'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
