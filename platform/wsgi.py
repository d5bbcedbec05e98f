"""Entry point for gunicorn: ``gunicorn 'maillage.platform.wsgi:app'``."""

from maillage.platform.app import create_app

app = create_app()
