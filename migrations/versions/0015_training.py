"""Training space and ambassadors

Revision ID: 0015_training
Revises: 0014_analytics
Create Date: 2026-12-06 03:40:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0015_training"
down_revision = "0014_analytics"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_ambassador", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "training_paths",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary_source", sa.Text(), nullable=False),
        sa.Column("summary_html", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("grants_certificate", sa.Boolean(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_training_paths_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_paths")),
    )
    op.create_table(
        "training_resources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("storage_key", sa.String(length=64), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('guide', 'howto', 'template', 'other')",
            name=op.f("ck_training_resources_training_resource_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_training_resources_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_resources")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_training_resources_storage_key")),
    )
    op.create_index(
        op.f("ix_training_resources_kind"), "training_resources", ["kind"], unique=False
    )
    op.create_table(
        "training_certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("path_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["path_id"],
            ["training_paths.id"],
            name=op.f("fk_training_certificates_path_id_training_paths"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_training_certificates_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_certificates")),
        sa.UniqueConstraint("code", name=op.f("uq_training_certificates_code")),
        sa.UniqueConstraint("user_id", "path_id", name="uq_training_certificate"),
    )
    op.create_index(
        op.f("ix_training_certificates_user_id"), "training_certificates", ["user_id"], unique=False
    )
    op.create_table(
        "training_courses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary_source", sa.Text(), nullable=False),
        sa.Column("summary_html", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["path_id"],
            ["training_paths.id"],
            name=op.f("fk_training_courses_path_id_training_paths"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_courses")),
    )
    op.create_index(
        "ix_training_courses_path_position",
        "training_courses",
        ["path_id", "position"],
        unique=False,
    )
    op.create_table(
        "training_modules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["training_courses.id"],
            name=op.f("fk_training_modules_course_id_training_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_modules")),
    )
    op.create_index(
        "ix_training_modules_course_position",
        "training_modules",
        ["course_id", "position"],
        unique=False,
    )
    op.create_table(
        "training_lessons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("module_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body_source", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("video_url", sa.String(length=500), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["module_id"],
            ["training_modules.id"],
            name=op.f("fk_training_lessons_module_id_training_modules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_lessons")),
    )
    op.create_index(
        "ix_training_lessons_module_position",
        "training_lessons",
        ["module_id", "position"],
        unique=False,
    )
    op.create_table(
        "training_quizzes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("module_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("pass_mark", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "max_attempts >= 1", name=op.f("ck_training_quizzes_max_attempts_positive")
        ),
        sa.CheckConstraint(
            "pass_mark >= 0 AND pass_mark <= 100",
            name=op.f("ck_training_quizzes_pass_mark_percent"),
        ),
        sa.ForeignKeyConstraint(
            ["module_id"],
            ["training_modules.id"],
            name=op.f("fk_training_quizzes_module_id_training_modules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_quizzes")),
        sa.UniqueConstraint("module_id", name=op.f("uq_training_quizzes_module_id")),
    )
    op.create_table(
        "training_lesson_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["training_lessons.id"],
            name=op.f("fk_training_lesson_attachments_lesson_id_training_lessons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_lesson_attachments")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_training_lesson_attachments_storage_key")),
    )
    op.create_index(
        op.f("ix_training_lesson_attachments_lesson_id"),
        "training_lesson_attachments",
        ["lesson_id"],
        unique=False,
    )
    op.create_table(
        "training_lesson_completions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["training_lessons.id"],
            name=op.f("fk_training_lesson_completions_lesson_id_training_lessons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_training_lesson_completions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_lesson_completions")),
        sa.UniqueConstraint("lesson_id", "user_id", name="uq_training_lesson_completion"),
    )
    op.create_index(
        op.f("ix_training_lesson_completions_user_id"),
        "training_lesson_completions",
        ["user_id"],
        unique=False,
    )
    op.create_table(
        "training_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quiz_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.Column("multiple", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["quiz_id"],
            ["training_quizzes.id"],
            name=op.f("fk_training_questions_quiz_id_training_quizzes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_questions")),
    )
    op.create_index(
        op.f("ix_training_questions_quiz_id"), "training_questions", ["quiz_id"], unique=False
    )
    op.create_table(
        "training_quiz_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quiz_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "score >= 0 AND score <= 100", name=op.f("ck_training_quiz_attempts_score_percent")
        ),
        sa.ForeignKeyConstraint(
            ["quiz_id"],
            ["training_quizzes.id"],
            name=op.f("fk_training_quiz_attempts_quiz_id_training_quizzes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_training_quiz_attempts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_quiz_attempts")),
        sa.UniqueConstraint("quiz_id", "user_id", "number", name="uq_training_attempt_number"),
    )
    op.create_index(
        op.f("ix_training_quiz_attempts_user_id"),
        "training_quiz_attempts",
        ["user_id"],
        unique=False,
    )
    op.create_table(
        "training_choices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["training_questions.id"],
            name=op.f("fk_training_choices_question_id_training_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_choices")),
    )
    op.create_index(
        op.f("ix_training_choices_question_id"), "training_choices", ["question_id"], unique=False
    )
    # ### end Alembic commands ###


def downgrade():
    op.drop_index(op.f("ix_training_choices_question_id"), table_name="training_choices")
    op.drop_table("training_choices")
    op.drop_index(op.f("ix_training_quiz_attempts_user_id"), table_name="training_quiz_attempts")
    op.drop_table("training_quiz_attempts")
    op.drop_index(op.f("ix_training_questions_quiz_id"), table_name="training_questions")
    op.drop_table("training_questions")
    op.drop_index(
        op.f("ix_training_lesson_completions_user_id"), table_name="training_lesson_completions"
    )
    op.drop_table("training_lesson_completions")
    op.drop_index(
        op.f("ix_training_lesson_attachments_lesson_id"), table_name="training_lesson_attachments"
    )
    op.drop_table("training_lesson_attachments")
    op.drop_table("training_quizzes")
    op.drop_index("ix_training_lessons_module_position", table_name="training_lessons")
    op.drop_table("training_lessons")
    op.drop_index("ix_training_modules_course_position", table_name="training_modules")
    op.drop_table("training_modules")
    op.drop_index("ix_training_courses_path_position", table_name="training_courses")
    op.drop_table("training_courses")
    op.drop_index(op.f("ix_training_certificates_user_id"), table_name="training_certificates")
    op.drop_table("training_certificates")
    op.drop_index(op.f("ix_training_resources_kind"), table_name="training_resources")
    op.drop_table("training_resources")
    op.drop_table("training_paths")
    # ### end Alembic commands ###
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("is_ambassador")
