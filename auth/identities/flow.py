"""The end of every provider's web flow: identify, then sign in (or link), or explain why not.

A provider's view authenticates the person and hands the resulting IdentityInfo to
:func:`finish_sign_in`; this module is the one place that turns it into a session, so every
provider gets the same access rules, audit entries, session rotation and refusal pages.

When an existing account holds the person's address and may not be joined on the address alone,
the person is sent to prove they hold it (:mod:`.proofs`, pages in :mod:`.proof_views`); this
browser's proof is named in its session (:data:`PROOF_KEY`).

Signing in with another identity of that account is one of the proofs, but only a sign-in the
person started from the proof page (:func:`sign_in_from_proof`, a POST that leaves a one-time
nonce tied to the proof) counts, and even then nothing is linked before the person, signed in,
says yes on a confirmation page (:func:`confirm_link`).  Any other sign-in forgets the pending
proof: on a shared computer, or after a provider sent the browser through its own sign-in
unasked, a proof left pending must never join an identity to whoever signs in next.
"""

from __future__ import annotations

import secrets

from flask import flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import delete

from maillage.auth.identities import operations, proofs
from maillage.auth.identities.access import AccessRefused
from maillage.auth.identities.info import IdentityInfo
from maillage.auth.identities.models import LinkProof
from maillage.auth.providers.base import AuthProvider
from maillage.communities.community.labels import ORGANISATION_KIND
from maillage.communities.users.models import User
from maillage.platform.errors import Conflict, NotAllowed
from maillage.platform.extensions import db

#: session key: the provider whose next successful sign-in links to the signed-in account
LINKING_KEY = "auth_linking"
#: session key: this browser's pending proof ({"id", "key", "user", "session", "sid"}, and
#: "via" once the person chose, on the proof page, to prove it with another identity)
PROOF_KEY = "auth_link_proof"
#: session key (signed in): the proof proved by another identity, waiting for the person to
#: confirm the link ({"id", "key", "user", "next"})
CONFIRM_KEY = "auth_link_confirm"


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
    sid: str | None = None,
):
    """Sign in (or link) the person ``info`` describes; returns the response to send.

    ``after_login`` runs once the new session exists (OIDC keeps its ID token there for the
    provider's sign-out); ``sid`` is the OIDC session id of this sign-in, kept on the session
    record for a back-channel logout.
    """
    linking = _linking(provider)
    via = _spend_nonce()
    try:
        user = operations.establish_identity(
            info,
            provider.access_rules,
            link_to=current_user if linking else None,
            link_by_email=provider.link_by_email,
        )
    except operations.LinkProofRequired as needed:
        db.session.rollback()
        return _ask_for_proof(info, needed.account, next_url, remember, after_login, sid)
    except (AccessRefused, Conflict, NotAllowed) as exc:
        return _not_signed_in(provider, exc)
    if linking:
        db.session.commit()
        flash(_("L'identité « %(name)s » est liée à votre compte.", name=provider.title), "success")
        return redirect(url_for("auth.account"))
    to_confirm = _proof_to_confirm(user, provider, via)
    operations.complete_login(
        user, provider.name, remember=remember, subject=info.identifier, sid=sid
    )
    if after_login is not None:
        after_login()
    flash(_("Vous êtes connecté."), "success")
    if to_confirm is not None:  # after complete_login, which starts a fresh session
        session[CONFIRM_KEY] = {**to_confirm, "next": next_url}
        return redirect(url_for("identities.link_confirm"))
    return redirect(next_url or url_for("portal.home"))


def _not_signed_in(provider: AuthProvider, exc: Exception):
    if isinstance(exc, AccessRefused):
        operations.record_failure(provider.name, "access_rule", rule=exc.rule)
        return _refused(provider, exc)
    if isinstance(exc, Conflict):
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("auth.account"))
    operations.record_failure(provider.name, "inactive")
    return render_template("auth/sign_in_refused.html", message=str(exc)), 403


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
        unverified_email=refusal.unverified_email,
        idp_id=info.idp_id,
        kind_labels=ORGANISATION_KIND,
    )
    return page, 403


# -- proving control of the existing account ---------------------------------------------------


def _session_writes(after_login) -> dict:
    """What ``after_login`` writes into the session, taken back out to be replayed once the
    proof opens the session (a sign-in that stops at the proof has no session yet)."""
    if after_login is None:
        return {}
    before = dict(session)
    after_login()
    written = {key: value for key, value in session.items() if before.get(key) != value}
    for key in written:
        if key in before:
            session[key] = before[key]
        else:
            session.pop(key)
    return written


def _ask_for_proof(info, account: User, next_url, remember, after_login, sid):
    discard_proof()
    proof, key = proofs.start(info, account, next_url=next_url, remember=remember)
    session[PROOF_KEY] = {
        "id": proof.id,
        "key": key,
        "user": account.id,
        "session": _session_writes(after_login),
        "sid": sid,
    }
    db.session.commit()
    return redirect(url_for("identities.link_proof"))


def pending_proof() -> LinkProof | None:
    """This browser's proof, if it is still valid."""
    marker = session.get(PROOF_KEY)
    if not isinstance(marker, dict):
        return None
    return proofs.find(marker.get("id"), marker.get("key"))


def pending_account_id() -> int | None:
    """The account this browser's proof is about, read without the database (a rate-limit
    key)."""
    marker = session.get(PROOF_KEY)
    return marker.get("user") if isinstance(marker, dict) else None


def discard_proof() -> None:
    """Forget this browser's proof (and drop its row)."""
    proof = pending_proof()
    session.pop(PROOF_KEY, None)
    if proof is not None:
        db.session.delete(proof)


def sign_in_from_proof(proof: LinkProof, provider: AuthProvider) -> None:
    """The person chose, on the proof page, to prove the account with ``provider``: its next
    sign-in in this browser may stand as the proof (:func:`_proof_to_confirm` checks and spends
    the nonce).  Only a POST with the page's CSRF token gets here: neither a provider sending the
    browser through a sign-in nor a link on another site can."""
    marker = session.get(PROOF_KEY)
    if not isinstance(marker, dict) or marker.get("id") != proof.id:
        return
    marker["via"] = {"proof": proof.id, "provider": provider.name, "nonce": secrets.token_urlsafe()}
    session[PROOF_KEY] = marker
    session.modified = True


def _spend_nonce() -> dict | None:
    """Take the nonce :func:`sign_in_from_proof` left, whatever this sign-in turns out to be:
    it serves one return from a provider at most."""
    marker = session.get(PROOF_KEY)
    if not isinstance(marker, dict) or "via" not in marker:
        return None
    via = marker.pop("via")
    session[PROOF_KEY] = marker
    session.modified = True
    return via


def _chose_this_sign_in(via, proof: LinkProof, provider: AuthProvider) -> bool:
    """Whether this sign-in is the one the person started from the proof page: a nonce left by
    :func:`sign_in_from_proof` for this very proof and this provider."""
    return (
        isinstance(via, dict)
        and isinstance(via.get("nonce"), str)
        and via.get("proof") == proof.id
        and via.get("provider") == provider.name
    )


def _proof_to_confirm(user: User, provider: AuthProvider, via) -> dict | None:
    """At a sign-in (not a link): this browser's pending proof, to confirm, if the person chose
    this sign-in on the proof page (``via``: the nonce it left) to prove the account it opens;
    any other sign-in forgets the proof (its row goes with the sign-in's commit)."""
    marker = session.get(PROOF_KEY)
    proof = pending_proof()
    if proof is None:
        session.pop(PROOF_KEY, None)
        return None
    chosen = _chose_this_sign_in(via, proof, provider)
    if not chosen or proof.user_id != user.id or proof.provider == provider.name:
        discard_proof()
        return None
    session.pop(PROOF_KEY, None)
    return {"id": proof.id, "key": marker["key"], "user": user.id, "by": provider.name}


def proof_to_confirm(user: User) -> LinkProof | None:
    """The proof waiting for ``user`` (signed in) to confirm the link, if still valid."""
    marker = session.get(CONFIRM_KEY)
    if not isinstance(marker, dict) or marker.get("user") != user.id:
        return None
    proof = proofs.find(marker.get("id"), marker.get("key"))
    if proof is None or proof.user_id != user.id:
        return None
    return proof


def confirm_link(proof: LinkProof):
    """The signed-in person said yes: link the waiting identity to their account."""
    marker = session.pop(CONFIRM_KEY, None) or {}
    waiting = _provider_of(proof)
    if waiting is None:
        proofs.cancel(proof)
        db.session.commit()
        flash(_("Cette demande de liaison n'est plus valable : rien n'a été lié."), "error")
        return redirect(url_for("portal.home"))
    try:
        proofs.complete(proof, waiting.access_rules, by=f"identity:{marker.get('by')}")
    except (AccessRefused, Conflict, NotAllowed) as exc:
        db.session.rollback()
        _drop(proof)
        flash(str(exc), "error")
        return redirect(url_for("auth.account"))
    db.session.commit()
    flash(_("L'identité « %(name)s » est liée à votre compte.", name=waiting.title), "success")
    return redirect(marker.get("next") or url_for("portal.home"))


def decline_link(proof: LinkProof | None):
    """The signed-in person said no (or the proof is gone): nothing is linked."""
    marker = session.pop(CONFIRM_KEY, None) or {}
    if proof is not None:
        proofs.cancel(proof)
    db.session.commit()
    flash(_("Rien n'a été lié à votre compte."), "info")
    return redirect(marker.get("next") or url_for("portal.home"))


def _drop(proof: LinkProof) -> None:
    """Forget ``proof`` after a failed link (the rollback undid its deletion)."""
    db.session.execute(delete(LinkProof).where(LinkProof.id == proof.id))
    db.session.commit()


def _provider_of(proof: LinkProof) -> AuthProvider | None:
    from maillage.auth.providers.registry import providers

    return providers().get(proof.provider)


def finish_proof(proof: LinkProof, by: str):
    """The person proved they hold the account (``by``: ``password`` or ``code``): link the
    identity, open the session as a sign-in through its provider would, and go on."""
    provider = _provider_of(proof)
    marker = session.get(PROOF_KEY) or {}
    next_url, remember = proof.next_url, proof.remember
    try:
        user = proofs.complete(proof, provider.access_rules, by=by)
    except (AccessRefused, Conflict, NotAllowed) as exc:
        session.pop(PROOF_KEY, None)
        return _not_signed_in(provider, exc)
    operations.complete_login(
        user, provider.name, remember=remember, subject=proof.identifier, sid=marker.get("sid")
    )
    session.update(marker.get("session") or {})
    flash(_("L'identité « %(name)s » est liée à votre compte.", name=provider.title), "success")
    flash(_("Vous êtes connecté."), "success")
    return redirect(next_url or url_for("portal.home"))


def finish_separately(proof: LinkProof):
    """The person says the account is not theirs: sign them in to a new, distinct account."""
    provider = _provider_of(proof)
    marker = session.get(PROOF_KEY) or {}
    next_url, remember, identifier = proof.next_url, proof.remember, proof.identifier
    try:
        user = proofs.separate(proof, provider.access_rules)
    except (AccessRefused, Conflict, NotAllowed) as exc:
        session.pop(PROOF_KEY, None)
        return _not_signed_in(provider, exc)
    operations.complete_login(
        user, provider.name, remember=remember, subject=identifier, sid=marker.get("sid")
    )
    session.update(marker.get("session") or {})
    flash(_("Votre compte est créé. Vous êtes connecté."), "success")
    return redirect(next_url or url_for("portal.home"))
