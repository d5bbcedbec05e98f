"""Server-side sessions

Revision ID: 0027_server_sessions
Revises: 0026_secret_access
Create Date: 2026-12-07 17:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0027_server_sessions'
down_revision = '0026_secret_access'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
