from flask import Blueprint
from flask_babel import lazy_gettext as _l

from maillage.communities.console import register_console_section
from maillage.platform.admin.sections import register_admin_section

blueprint = Blueprint(
    "moderation", "maillage.communities.moderation.views", template_folder="templates"
)

register_console_section(
    "moderation", _l("Modération"), "moderation.queue", action="moderate", order=30
)
register_console_section(
    "sanctions", _l("Sanctions"), "moderation.sanctions", action="mute", order=31
)
register_console_section(
    "audit", _l("Journal d'audit"), "moderation.audit", action="view_audit", order=90
)
register_admin_section(
    "moderation",
    _l("Modération"),
    _l("Les signalements ouverts de toutes les communautés."),
    "moderation.admin_queue",
    order=30,
)

from maillage.communities.moderation import views  # noqa: E402,F401 - registers the routes
