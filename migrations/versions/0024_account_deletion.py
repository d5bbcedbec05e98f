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
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deletion_requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('deletion_due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('deletion_erasure', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('deletion_requested_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('inactivity_warned_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_deletion_due_at'), ['deletion_due_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_users_deletion_requested_by_id_users'), 'users', ['deletion_requested_by_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_users_deletion_requested_by_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_users_deletion_due_at'))
        batch_op.drop_column('inactivity_warned_at')
        batch_op.drop_column('deleted_at')
        batch_op.drop_column('deletion_requested_by_id')
        batch_op.drop_column('deletion_erasure')
        batch_op.drop_column('deletion_due_at')
        batch_op.drop_column('deletion_requested_at')
