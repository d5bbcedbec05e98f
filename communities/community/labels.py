"""French labels (translated through Babel) for the codes stored on communities and members.

Forms, templates and e-mails read these dictionaries instead of showing raw codes such as
``local_authority``; any package may import them.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from maillage.communities.community.models import JoinPolicy, Role, Visibility
from maillage.communities.organisations.models import OrganisationKind

ORGANISATION_KINDS = {
    OrganisationKind.STATE_SERVICE: _l("Services de l'État"),
    OrganisationKind.LOCAL_AUTHORITY: _l("Collectivités territoriales"),
    OrganisationKind.ASSOCIATION: _l("Associations"),
    OrganisationKind.OTHER: _l("Autres organisations"),
}

#: The kind of one person's organisation (the plural labels above name groups of members).
ORGANISATION_KIND = {
    OrganisationKind.STATE_SERVICE: _l("Service de l'État"),
    OrganisationKind.LOCAL_AUTHORITY: _l("Collectivité territoriale"),
    OrganisationKind.ASSOCIATION: _l("Association"),
    OrganisationKind.OTHER: _l("Autre organisation"),
}

VISIBILITIES = {
    Visibility.PUBLIC: _l("Publique"),
    Visibility.PRIVATE: _l("Privée"),
    Visibility.SECRET: _l("Secrète"),
}

VISIBILITY_HELP = {
    Visibility.PUBLIC: _l("Tout le monde peut lire les contenus, même sans compte."),
    Visibility.PRIVATE: _l(
        "La communauté apparaît dans l'annuaire ; seuls ses membres lisent les contenus."
    ),
    Visibility.SECRET: _l("Invisible pour qui n'est pas membre : ni annuaire, ni recherche."),
}

JOIN_POLICIES = {
    JoinPolicy.OPEN: _l("Adhésion libre"),
    JoinPolicy.REQUEST: _l("Adhésion sur demande"),
    JoinPolicy.INVITE: _l("Sur invitation uniquement"),
}

JOIN_POLICY_HELP = {
    JoinPolicy.OPEN: _l("Toute personne connectée peut rejoindre la communauté."),
    JoinPolicy.REQUEST: _l("Une personne demande à rejoindre ; un animateur accepte ou refuse."),
    JoinPolicy.INVITE: _l("Seuls les animateurs font entrer de nouveaux membres, par invitation."),
}

ROLES = {
    Role.OWNER: _l("Propriétaire"),
    Role.FACILITATOR: _l("Animateur ou animatrice"),
    Role.MODERATOR: _l("Modérateur ou modératrice"),
    Role.MEMBER: _l("Membre"),
    Role.GUEST: _l("Invité ou invitée (lecture seule)"),
}

#: Roles an invitation may carry (ownership is handed over inside the community, never by e-mail).
INVITATION_ROLES = (Role.MEMBER, Role.GUEST, Role.MODERATOR, Role.FACILITATOR)


def template_context() -> dict:
    """What the community templates read to label codes."""
    return {
        "KIND_LABELS": ORGANISATION_KINDS,
        "KIND_LABEL": ORGANISATION_KIND,
        "VISIBILITY_LABELS": VISIBILITIES,
        "JOIN_POLICY_LABELS": JOIN_POLICIES,
        "ROLE_LABELS": ROLES,
        "VISIBILITY_HELP": VISIBILITY_HELP,
        "JOIN_POLICY_HELP": JOIN_POLICY_HELP,
    }
