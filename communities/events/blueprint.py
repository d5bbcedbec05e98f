from flask import Blueprint

blueprint = Blueprint("events", "maillage.communities.events.views", template_folder="templates")

# Registers the routes.
from maillage.communities.events import feed_views, poll_views, views  # noqa: E402,F401
