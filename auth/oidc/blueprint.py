from flask import Blueprint

blueprint = Blueprint(
    "auth_oidc",
    "maillage.auth.oidc.views",
    template_folder="templates",
    static_folder="static",
    static_url_path="/oidc/static",
)

from maillage.auth.oidc import backchannel, hooks, views  # noqa: E402,F401 - routes and hooks
