from flask import Blueprint

blueprint = Blueprint(
    "personal_data", "maillage.platform.personal_data.views", template_folder="templates"
)

from maillage.platform.personal_data import views  # noqa: E402,F401 - registers the routes
