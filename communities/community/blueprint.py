from flask import Blueprint

blueprint = Blueprint(
    "community", "maillage.communities.community.views", template_folder="templates"
)

from maillage.communities.community import views  # noqa: E402,F401 - registers the routes
