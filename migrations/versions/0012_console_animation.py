"""Console and animation

Revision ID: 0012_console_animation
Revises: 0011_totp_last_used
Create Date: 2026-12-06 03:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_console_animation'
down_revision = '0011_totp_last_used'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
