from flask import Blueprint

blueprint = Blueprint("auth", "maillage.auth.local.views", template_folder="templates")

from maillage.auth.local import views  # noqa: E402,F401 - registers the routes
