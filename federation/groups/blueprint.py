from flask import Blueprint

blueprint = Blueprint("federation_groups", "maillage.federation.groups.views")

# Registers the routes.
from maillage.federation.groups import views  # noqa: E402,F401
