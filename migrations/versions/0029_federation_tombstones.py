"""Federation ids never reused and tombstones

Revision ID: 0029_federation_tombstones
Revises: 0028_worker_health
Create Date: 2026-12-07 17:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0029_federation_tombstones'
down_revision = '0028_worker_health'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
