from flask import Blueprint

blueprint = Blueprint("firstrun", "maillage.platform.firstrun.views", template_folder="templates")

from maillage.platform.firstrun import gate, views  # noqa: E402,F401 - registers routes and hook
