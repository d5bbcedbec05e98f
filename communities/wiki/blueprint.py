from flask import Blueprint

blueprint = Blueprint("wiki", "maillage.communities.wiki.views", template_folder="templates")

from maillage.communities.wiki import views  # noqa: E402,F401 - registers the routes
