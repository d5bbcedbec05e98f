"""Federation groups and inbox

Revision ID: 0018_federation_groups
Revises: 0017_federation_actors
Create Date: 2026-12-06 03:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_federation_groups'
down_revision = '0017_federation_actors'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
