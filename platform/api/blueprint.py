from flask import Blueprint

blueprint = Blueprint(
    "api", "maillage.platform.api.views", template_folder="templates", url_prefix="/api/v1"
)

from maillage.platform.api import auth, errors, openapi, views  # noqa: E402,F401 - routes, hooks

blueprint.before_request(auth.authenticate)
errors.register(blueprint)
