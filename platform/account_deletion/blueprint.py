from flask import Blueprint
from flask_babel import lazy_gettext as _l

from maillage.platform.admin.sections import register_admin_section

blueprint = Blueprint(
    "account_deletion", "maillage.platform.account_deletion.views", template_folder="templates"
)

register_admin_section(
    "account_deletions",
    _l("Suppressions de comptes"),
    _l("Les suppressions de comptes programmées, et leur annulation."),
    "account_deletion.admin_list",
    order=25,
)

from maillage.platform.account_deletion import views  # noqa: E402,F401 - registers the routes
