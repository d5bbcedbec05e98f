"""Account deletion

Revision ID: 0024_account_deletion
Revises: 0023_personal_data_export
Create Date: 2026-12-07 14:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024_account_deletion'
down_revision = '0023_personal_data_export'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
