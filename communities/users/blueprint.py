from flask import Blueprint

blueprint = Blueprint("users", "maillage.communities.users.views", template_folder="templates")

from maillage.communities.users import views  # noqa: E402,F401 - registers the routes
