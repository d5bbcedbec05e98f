"""Organisations admin

Revision ID: 0021_organisations_admin
Revises: 0020_first_run
Create Date: 2026-12-07 14:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021_organisations_admin'
down_revision = '0020_first_run'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
