from sqlalchemy import select

from maillage.communities.users.models import User
from maillage.platform.extensions import db


def test_create_admin(app):
    result = app.test_cli_runner().invoke(
        args=[
            "maillage",
            "create-admin",
            "--username",
            "alix",
            "--email",
            "alix@example.gouv.fr",
            "--password",
            "un mot de passe solide",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "alix"))
    assert user.is_admin


def test_create_admin_refuses_a_weak_password_and_stores_nothing(app):
    result = app.test_cli_runner().invoke(
        args=[
            "maillage",
            "create-admin",
            "--username",
            "alix",
            "--email",
            "alix@example.gouv.fr",
            "--password",
            "court",
        ]
    )
    assert result.exit_code != 0
    assert "au moins 10 caractères" in result.output
    assert db.session.scalar(select(User)) is None


def test_reindex_and_process_outbox_commands(app, create_user):
    create_user("camille")
    runner = app.test_cli_runner()
    reindex = runner.invoke(args=["maillage", "reindex"])
    assert reindex.exit_code == 0, reindex.output
    assert "documents indexés" in reindex.output
    processed = runner.invoke(args=["maillage", "process-outbox"])
    assert processed.exit_code == 0
    assert "éléments traités" in processed.output
