"""The end of every provider's web flow: identify, then sign in (or link), or explain why not.

A provider's view authenticates the person and hands the resulting IdentityInfo to
:func:`finish_sign_in`; this module is the one place that turns it into a session, so every
provider gets the same access rules, audit entries, session rotation and refusal pages.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from maillage.auth.identities import operations
from maillage.auth.identities.access import AccessRefused
from maillage.auth.identities.info import IdentityInfo
from maillage.auth.providers.base import AuthProvider
from maillage.communities.community.labels import ORGANISATION_KIND
from maillage.platform.errors import Conflict, NotAllowed
from maillage.platform.extensions import db

#: session key: the provider whose next successful sign-in links to the signed-in account
LINKING_KEY = "auth_linking"


def start_linking(provider: AuthProvider) -> None:
    """The signed-in person asked to add ``provider`` to their account: its next successful
    authentication links the identity instead of signing in."""
    session[LINKING_KEY] = provider.name


def _linking(provider: AuthProvider) -> bool:
    return current_user.is_authenticated and session.pop(LINKING_KEY, None) == provider.name


def finish_sign_in(
    provider: AuthProvider,
    info: IdentityInfo,
    next_url: str | None = None,
    remember: bool = False,
    after_login=None,
):
    """Sign in (or link) the person ``info`` describes; returns the response to send.

    ``after_login`` runs once the new session exists (OIDC keeps its ID token there for the
    provider's sign-out).
    """
    linking = _linking(provider)
    try:
        user = operations.establish_identity(
            info, provider.access_rules, link_to=current_user if linking else None
        )
    except AccessRefused as refusal:
        operations.record_failure(provider.name, "access_rule", rule=refusal.rule)
        return _refused(provider, refusal)
    except Conflict as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("auth.account"))
    except NotAllowed as exc:
        operations.record_failure(provider.name, "inactive")
        return render_template("auth/sign_in_refused.html", message=str(exc)), 403
    if linking:
        db.session.commit()
        flash(_("L'identité « %(name)s » est liée à votre compte.", name=provider.title), "success")
        return redirect(url_for("auth.account"))
    operations.complete_login(user, provider.name, remember=remember)
    if after_login is not None:
        after_login()
    flash(_("Vous êtes connecté."), "success")
    return redirect(next_url or url_for("portal.home"))


def _refused(provider: AuthProvider, refusal: AccessRefused):
    info = refusal.info
    page = render_template(
        "auth/access_refused.html",
        provider=provider,
        rule=refusal.rule,
        allowed=refusal.allowed,
        organisation_name=info.organisation_name,
        siret=info.organisation_siret,
        email=info.email,
        idp_id=info.idp_id,
        kind_labels=ORGANISATION_KIND,
    )
    return page, 403
