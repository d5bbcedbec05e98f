from flask import Blueprint
from flask_babel import lazy_gettext as _l

from maillage.platform.admin.sections import register_admin_section
from maillage.platform.legal.queries import preload_accessibility_state

blueprint = Blueprint("legal", "maillage.platform.legal.views", template_folder="templates")

blueprint.record_once(lambda state: preload_accessibility_state(state.app))

register_admin_section(
    "legal",
    _l("Pages légales"),
    _l(
        "Mentions légales, données personnelles, déclaration d'accessibilité et charte "
        "d'utilisation : textes, état de conformité, historique des modifications."
    ),
    "legal.admin",
    order=80,
)

from maillage.platform.legal import views  # noqa: E402,F401 - registers the routes
