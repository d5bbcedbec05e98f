from flask import Blueprint

blueprint = Blueprint("twofactor", "maillage.auth.twofactor.views", template_folder="templates")

from maillage.auth.twofactor import views  # noqa: E402,F401 - registers the routes
