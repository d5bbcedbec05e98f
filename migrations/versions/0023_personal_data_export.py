"""Personal data export

Revision ID: 0023_personal_data_export
Revises: 0022_people_admin
Create Date: 2026-12-07 14:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023_personal_data_export'
down_revision = '0022_people_admin'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('personal_data_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ready_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('archive_key', sa.String(length=64), nullable=True),
    sa.Column('archive_size', sa.BigInteger(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('error', sa.Text(), server_default='', nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_personal_data_exports_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_data_exports')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_personal_data_exports_token_hash'))
    )
    with op.batch_alter_table('personal_data_exports', schema=None) as batch_op:
        batch_op.create_index('ix_personal_data_exports_status_expires', ['status', 'expires_at'], unique=False)
        batch_op.create_index('ix_personal_data_exports_user_status', ['user_id', 'status'], unique=False)


def downgrade():
    with op.batch_alter_table('personal_data_exports', schema=None) as batch_op:
        batch_op.drop_index('ix_personal_data_exports_user_status')
        batch_op.drop_index('ix_personal_data_exports_status_expires')

    op.drop_table('personal_data_exports')
