from flask import Blueprint

blueprint = Blueprint("health", "maillage.platform.health.views")

from maillage.platform.health import views  # noqa: E402, F401 - registers the routes
