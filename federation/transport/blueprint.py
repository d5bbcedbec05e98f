from flask import Blueprint
from flask_babel import lazy_gettext as _l

from maillage.platform.admin.sections import register_admin_section

blueprint = Blueprint(
    "federation_transport", "maillage.federation.transport.views", template_folder="templates"
)

register_admin_section(
    "federation",
    _l("Fédération"),
    _l("Mode de fédération, instances autorisées ou bloquées, santé des livraisons."),
    "federation_transport.admin",
    order=50,
)

from maillage.federation.transport import views  # noqa: E402,F401 - registers the routes
