"""Training space and ambassadors

Revision ID: 0015_training
Revises: 0014_analytics
Create Date: 2026-12-06 03:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_training'
down_revision = '0014_analytics'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
