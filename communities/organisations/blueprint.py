from flask import Blueprint
from flask_babel import lazy_gettext as _l

from maillage.platform.admin.sections import register_admin_section

blueprint = Blueprint(
    "organisations", "maillage.communities.organisations.views", template_folder="templates"
)


class _SectionDescription:
    """The admin home's description of the section, with the count of organisations waiting
    (read when the home page renders it: « 2 organisations à valider »)."""

    def __str__(self) -> str:
        from flask_babel import ngettext

        from maillage.communities.organisations.queries import pending_count

        text = str(_l("Liste, création, fusion et désactivation des organisations."))
        if count := pending_count():
            text += " " + ngettext(
                "%(num)d organisation à valider.", "%(num)d organisations à valider.", count
            )
        return text


register_admin_section(
    "organisations",
    _l("Organisations"),
    _SectionDescription(),
    "organisations.admin_list",
    order=20,
)

from maillage.communities.organisations import views  # noqa: E402,F401 - registers the routes
