"""People admin

Revision ID: 0022_people_admin
Revises: 0021_organisations_admin
Create Date: 2026-12-07 14:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022_people_admin'
down_revision = '0021_organisations_admin'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspended_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('suspended_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('suspension_reason', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_users_suspended_by_id_users'), 'users', ['suspended_by_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_users_suspended_by_id_users'), type_='foreignkey')
        batch_op.drop_column('suspension_reason')
        batch_op.drop_column('suspended_by_id')
        batch_op.drop_column('suspended_at')
