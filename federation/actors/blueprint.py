from flask import Blueprint

blueprint = Blueprint("federation_actors", "maillage.federation.actors.views")

from maillage.federation.actors import views  # noqa: E402,F401 - registers the routes
