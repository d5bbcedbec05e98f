"""Entry point for Celery: ``celery -A maillage.platform.worker:celery worker``."""

from maillage.platform.app import create_app

app = create_app()
celery = app.extensions["celery"]
