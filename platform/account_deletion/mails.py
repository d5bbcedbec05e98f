"""The e-mails of account deletion, in the person's language."""

from __future__ import annotations

from flask import current_app
from flask_babel import force_locale, format_datetime
from flask_babel import gettext as _

from maillage.platform import mail


def _locale(locale: str | None) -> str:
    return locale or current_app.config["BABEL_DEFAULT_LOCALE"]


def page_url() -> str:
    return f"{current_app.config['BASE_URL']}/account/delete"


def requested(user, *, by_admin: bool, reason: str = "") -> None:
    if not user.email:
        return
    with force_locale(_locale(user.locale)):
        subject = _("Suppression de votre compte programmée")
        text = _(
            "La suppression de votre compte %(name)s est programmée pour le %(due)s.",
            name=current_app.config["INSTANCE_NAME"],
            due=format_datetime(user.deletion_due_at, "long"),
        )
        if by_admin:
            text += "\n\n" + _("Elle a été demandée par un administrateur de la plateforme.")
            if reason:
                text += "\n" + _("Motif : %(reason)s", reason=reason)
            text += "\n" + _("Pour la contester, répondez à un administrateur.")
        else:
            text += "\n\n" + _(
                "Vous avez changé d'avis ? Connectez-vous et annulez-la avant cette date : %(url)s",
                url=page_url(),
            )
    mail.send(user.email, subject, text)


def cancelled(user) -> None:
    if not user.email:
        return
    with force_locale(_locale(user.locale)):
        subject = _("Suppression de votre compte annulée")
        text = _("La suppression de votre compte est annulée : il reste actif.")
    mail.send(user.email, subject, text)


def postponed(user, refusal) -> None:
    if not user.email:
        return
    with force_locale(_locale(user.locale)):
        subject = _("Suppression de votre compte reportée")
        text = _(
            "Votre compte n'a pas pu être supprimé : %(why)s\nNouvelle date : %(due)s. %(url)s",
            why=str(refusal),
            due=format_datetime(user.deletion_due_at, "long"),
            url=page_url(),
        )
        if refusal.communities:
            text += "\n" + "\n".join(f"- {community.name}" for community in refusal.communities)
    mail.send(user.email, subject, text)


def completed(email: str | None, locale: str | None) -> None:
    """Sent to the address the account had (read before it was erased)."""
    if not email:
        return
    with force_locale(_locale(locale)):
        subject = _("Votre compte a été supprimé")
        text = _(
            "Votre compte a été supprimé et vos données personnelles effacées. Merci d'avoir "
            "participé."
        )
    mail.send(email, subject, text)


def inactivity_warning(user, due) -> None:
    if not user.email:
        return
    with force_locale(_locale(user.locale)):
        subject = _("Votre compte inactif sera supprimé")
        text = _(
            "Vous ne vous êtes pas connecté depuis longtemps. Sans visite de votre part, votre "
            "compte sera anonymisé à partir du %(due)s (vos contributions resteront, signées "
            "« Ancien membre »). Pour le garder, il suffit de vous connecter : %(url)s",
            due=format_datetime(due, "long"),
            url=current_app.config["BASE_URL"] + "/login",
        )
    mail.send(user.email, subject, text)
