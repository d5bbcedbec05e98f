from flask import Blueprint

blueprint = Blueprint("polls", "maillage.communities.polls.views", template_folder="templates")

from maillage.communities.polls import views  # noqa: E402,F401 - registers the routes
