from flask import Blueprint

blueprint = Blueprint("auth_ldap", "maillage.auth.ldap.views", template_folder="templates")

from maillage.auth.ldap import views  # noqa: E402,F401 - registers the routes
