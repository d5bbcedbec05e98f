from flask import Blueprint
from flask_babel import lazy_gettext as _l

from maillage.platform.admin.sections import register_admin_section

blueprint = Blueprint("people", "maillage.platform.people.views", template_folder="templates")

register_admin_section(
    "people",
    _l("Personnes"),
    _l(
        "Comptes : recherche, suspension, rôles sur la plateforme, double authentification, "
        "import CSV."
    ),
    "people.index",
    order=15,
)

from maillage.platform.people import views  # noqa: E402,F401 - registers the routes
