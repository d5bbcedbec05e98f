"""Console and animation

Revision ID: 0012_console_animation
Revises: 0011_totp_last_used
Create Date: 2026-12-06 03:40:00.000000

"""

from alembic import op
import sqlalchemy as sa

from maillage.platform.db import UTCDateTime


# revision identifiers, used by Alembic.
revision = "0012_console_animation"
down_revision = "0011_totp_last_used"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("welcome_message", sa.Text(), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("charter", sa.Text(), server_default="", nullable=False))
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("charter_accepted_at", UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("join_requests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("charter_accepted_at", UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revoked_at", UTCDateTime(timezone=True), nullable=True))

    op.create_table(
        "community_announcements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body_source", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("pinned_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("emailed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("unpinned_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_community_announcements_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_community_announcements_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_announcements")),
    )
    with op.batch_alter_table("community_announcements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_community_announcements_created", ["community_id", "created_at"], unique=False
        )

    op.create_table(
        "scheduled_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("publish_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_scheduled_posts_author_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_scheduled_posts_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_scheduled_posts_post_id_posts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_posts")),
    )
    with op.batch_alter_table("scheduled_posts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_scheduled_posts_community_id"), ["community_id"], unique=False
        )
        batch_op.create_index("ix_scheduled_posts_due", ["status", "publish_at"], unique=False)

    op.create_table(
        "activity_summaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("send_count", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["communities.id"],
            name=op.f("fk_activity_summaries_community_id_communities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_activity_summaries_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sent_by_id"],
            ["users.id"],
            name=op.f("fk_activity_summaries_sent_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_summaries")),
        sa.UniqueConstraint(
            "community_id",
            "period_start",
            name=op.f("uq_activity_summaries_community_id_period_start"),
        ),
    )


def downgrade():
    op.drop_table("activity_summaries")
    with op.batch_alter_table("scheduled_posts", schema=None) as batch_op:
        batch_op.drop_index("ix_scheduled_posts_due")
        batch_op.drop_index(batch_op.f("ix_scheduled_posts_community_id"))
    op.drop_table("scheduled_posts")
    with op.batch_alter_table("community_announcements", schema=None) as batch_op:
        batch_op.drop_index("ix_community_announcements_created")
    op.drop_table("community_announcements")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_column("revoked_at")
    with op.batch_alter_table("join_requests", schema=None) as batch_op:
        batch_op.drop_column("charter_accepted_at")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_column("charter_accepted_at")
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.drop_column("charter")
        batch_op.drop_column("welcome_message")
