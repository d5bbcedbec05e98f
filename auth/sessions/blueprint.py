from flask import Blueprint

blueprint = Blueprint("sessions", "maillage.auth.sessions.views", template_folder="templates")

from maillage.auth.sessions import views  # noqa: E402,F401 - registers the routes and hooks
