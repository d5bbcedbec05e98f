from flask import Blueprint

blueprint = Blueprint("kanban", "maillage.communities.kanban.views", template_folder="templates")

from maillage.communities.kanban import views  # noqa: E402,F401 - registers the routes
