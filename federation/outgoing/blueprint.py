from flask import Blueprint

blueprint = Blueprint(
    "federation_outgoing", "maillage.federation.outgoing.views", template_folder="templates"
)

# Registers the routes.
from maillage.federation.outgoing import views  # noqa: E402,F401
