"""Federation outgoing

Revision ID: 0019_federation_outgoing
Revises: 0018_federation_groups
Create Date: 2026-12-06 03:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019_federation_outgoing'
down_revision = '0018_federation_groups'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
