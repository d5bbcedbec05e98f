from flask import Blueprint

blueprint = Blueprint("identities", "maillage.auth.identities.views", template_folder="templates")

from maillage.auth.identities import proof_views, views  # noqa: E402,F401 - registers the routes
