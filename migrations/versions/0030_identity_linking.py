"""Identity linking proofs and deprovisioning

Revision ID: 0030_identity_linking
Revises: 0029_federation_tombstones
Create Date: 2026-12-07 17:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0030_identity_linking'
down_revision = '0029_federation_tombstones'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
