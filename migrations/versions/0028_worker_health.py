"""Worker heartbeat and outbox leases

Revision ID: 0028_worker_health
Revises: 0027_server_sessions
Create Date: 2026-12-07 17:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0028_worker_health'
down_revision = '0027_server_sessions'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
