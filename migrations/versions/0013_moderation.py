"""Moderation

Revision ID: 0013_moderation
Revises: 0012_console_animation
Create Date: 2026-12-06 03:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_moderation'
down_revision = '0012_console_animation'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
