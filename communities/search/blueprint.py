from flask import Blueprint

blueprint = Blueprint("search", "maillage.communities.search.views", template_folder="templates")

from maillage.communities.search import views  # noqa: E402,F401 - registers the routes
