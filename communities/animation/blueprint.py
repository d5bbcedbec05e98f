from flask import Blueprint

blueprint = Blueprint(
    "animation", "maillage.communities.animation.views", template_folder="templates"
)

from maillage.communities.animation import views  # noqa: E402,F401 - registers the routes
