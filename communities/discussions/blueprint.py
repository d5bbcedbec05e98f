from flask import Blueprint

blueprint = Blueprint(
    "discussions", "maillage.communities.discussions.views", template_folder="templates"
)

from maillage.communities.discussions import views  # noqa: E402,F401 - registers the routes
