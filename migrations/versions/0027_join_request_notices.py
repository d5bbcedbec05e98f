"""Join request notices

Revision ID: 0027_join_request_notices
Revises: 0026_secret_access
Create Date: 2026-12-07 14:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0027_join_request_notices'
down_revision = '0026_secret_access'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
