"""Words shown for reasons and modes (lazy: translated in the reader's language when shown)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

REASON_LABELS = {
    "new_content": _l("Nouveau contenu"),
    "reply": _l("Nouvelle réponse"),
    "mention": _l("Mention"),
    "answered": _l("Réponse à votre question"),
    "event": _l("Nouvel événement"),
    "event_change": _l("Événement modifié"),
    "waitlist_promoted": _l("Place confirmée"),
    "assigned": _l("Tâche assignée"),
    "poll_closed": _l("Sondage clos"),
    "wiki_edit": _l("Page de wiki modifiée"),
    "welcome": _l("Bienvenue"),
    "moderation_hidden": _l("Contenu masqué par la modération"),
    "moderation_restored": _l("Contenu rétabli"),
    "moderation_deleted": _l("Contenu supprimé par la modération"),
    "moderation_sanction": _l("Sanction de la modération"),
    "join_request": _l("Demande d'adhésion"),
    "join_request_decided": _l("Réponse à votre demande d'adhésion"),
    "organisation_proposed": _l("Organisation à valider"),
    "access_grant": _l("Accès exceptionnel d'un administrateur"),
    "personal_data_export": _l("Archive de vos données prête"),
}
DEFAULT_REASON_LABEL = _l("Notification")

MODE_LABELS = {
    "immediate": _l("Immédiatement, un e-mail par notification"),
    "daily": _l("Un résumé par jour"),
    "weekly": _l("Un résumé par semaine (le lundi)"),
    "off": _l("Aucun e-mail ni alerte de nouveau contenu"),
}
SAME_AS_DEFAULT = _l("Comme mon réglage par défaut")


def reason_label(reason: str) -> str:
    return str(REASON_LABELS.get(reason, DEFAULT_REASON_LABEL))
