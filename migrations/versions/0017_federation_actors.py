"""Federation actors

Revision ID: 0017_federation_actors
Revises: 0016_federation_transport
Create Date: 2026-12-06 03:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_federation_actors'
down_revision = '0016_federation_transport'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
