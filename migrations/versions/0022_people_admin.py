"""People admin

Revision ID: 0022_people_admin
Revises: 0021_organisations_admin
Create Date: 2026-12-07 14:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022_people_admin'
down_revision = '0021_organisations_admin'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
