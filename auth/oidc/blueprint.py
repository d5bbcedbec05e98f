from flask import Blueprint

blueprint = Blueprint("auth_oidc", "maillage.auth.oidc.views", template_folder="templates")

from maillage.auth.oidc import hooks, views  # noqa: E402,F401 - registers the routes and hooks
