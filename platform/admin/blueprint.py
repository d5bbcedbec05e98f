from flask import Blueprint

blueprint = Blueprint("admin", "maillage.platform.admin.views", template_folder="templates")

from maillage.platform.admin import views  # noqa: E402,F401 - registers the routes
