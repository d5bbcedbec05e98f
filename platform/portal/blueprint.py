from flask import Blueprint

blueprint = Blueprint("portal", "maillage.platform.portal.views")

from maillage.platform.portal import views  # noqa: E402,F401 - registers the routes
