"""Analytics

Revision ID: 0014_analytics
Revises: 0013_moderation
Create Date: 2026-12-06 03:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_analytics'
down_revision = '0013_moderation'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
