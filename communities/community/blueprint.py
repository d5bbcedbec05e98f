from flask import Blueprint

blueprint = Blueprint(
    "community", "maillage.communities.community.views", template_folder="templates"
)

# Registers the routes.
from maillage.communities.community import console_views, views  # noqa: E402,F401
