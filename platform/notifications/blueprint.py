from flask import Blueprint

blueprint = Blueprint(
    "notifications", "maillage.platform.notifications.views", template_folder="templates"
)

from maillage.platform.notifications import views  # noqa: E402,F401 - registers the routes
