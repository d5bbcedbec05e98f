"""Federation transport

Revision ID: 0016_federation_transport
Revises: 0015_training
Create Date: 2026-12-06 03:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_federation_transport'
down_revision = '0015_training'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
