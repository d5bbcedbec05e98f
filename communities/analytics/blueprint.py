from flask import Blueprint
from flask_babel import lazy_gettext as _l

from maillage.communities.console import register_console_section
from maillage.platform.admin.sections import register_admin_section

blueprint = Blueprint(
    "analytics", "maillage.communities.analytics.views", template_folder="templates"
)

register_console_section("analytics", _l("Statistiques"), "analytics.community", order=60)
register_admin_section(
    "analytics",
    _l("Statistiques de la plateforme"),
    _l("Membres actifs, contributions, organisations représentées, tendances, exports CSV."),
    "analytics.platform",
    order=40,
)

from maillage.communities.analytics import views, visits  # noqa: E402,F401 - registers the routes
