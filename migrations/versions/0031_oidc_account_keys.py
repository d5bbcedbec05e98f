"""OIDC account keys no longer depend on the idp_id scope

Revision ID: 0031_oidc_account_keys
Revises: 0030_identity_linking
Create Date: 2026-12-07 17:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0031_oidc_account_keys'
down_revision = '0030_identity_linking'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
