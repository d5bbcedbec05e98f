from flask import Blueprint

blueprint = Blueprint(
    "training", "maillage.communities.training.views", template_folder="templates"
)

# Registers the routes.
from flask_babel import lazy_gettext as _l  # noqa: E402

from maillage.communities.training import (  # noqa: E402,F401
    manage_views,
    people_views,
    views,
)
from maillage.platform.admin.sections import register_admin_section  # noqa: E402

register_admin_section(
    "ambassadors",
    _l("Ambassadeurs"),
    _l("Les personnes qui aident leurs collègues à adopter la plateforme, par organisation."),
    "training.manage_ambassadors",
    order=60,
)
register_admin_section(
    "training",
    _l("Espace de formation"),
    _l("Parcours, cours, quiz, apprenants et certificats des animateurs."),
    "training.home",
    order=50,
)
