from flask import Blueprint
from flask_babel import lazy_gettext as _l

from maillage.communities.console import register_console_section
from maillage.platform.admin.sections import register_admin_section

blueprint = Blueprint(
    "oversight", "maillage.communities.oversight.views", template_folder="templates"
)

register_admin_section(
    "communities",
    _l("Communautés"),
    _l(
        "Toutes les communautés, secrètes comprises (nom, propriétaires, taille, sans leur"
        " contenu) ; accès exceptionnel motivé et limité dans le temps."
    ),
    "oversight.admin_communities",
    order=25,
)
register_console_section(
    "oversight",
    _l("Accès administrateur"),
    "oversight.community_grants",
    action="view_audit",
    order=91,
)

from maillage.communities.oversight import views  # noqa: E402,F401 - registers the routes
