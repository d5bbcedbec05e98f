"""Models and the Alembic history never drift apart."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from maillage.platform.extensions import db


def test_models_match_migrations(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        diff = [
            change
            for change in compare_metadata(context, db.metadata)
            if not _is_foreign_table(change)
        ]
    assert diff == [], "models changed without a migration: run flask db migrate"


def _is_foreign_table(change) -> bool:
    item = change[0] if isinstance(change, list) else change
    table = item[1] if len(item) > 1 else None
    return getattr(table, "name", "").startswith("kombu_")


def test_single_linear_history(app):
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(app.extensions["migrate"].directory)
    assert len(script.get_heads()) == 1
