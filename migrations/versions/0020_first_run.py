"""First run

Revision ID: 0020_first_run
Revises: 0019_federation_outgoing
Create Date: 2026-12-07 14:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_first_run'
down_revision = '0019_federation_outgoing'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
