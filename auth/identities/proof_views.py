"""The pages of the proof that a person holds the existing account their address names.

A first sign-in that stops at :class:`~maillage.auth.identities.operations.LinkProofRequired`
lands on ``/login/link``: the person proves they hold the account with its password (and second
factor), by signing in with another identity of that account, or with a code e-mailed to its
address — or says it is not theirs (a distinct account, without the address), or gives up
(nothing linked, nothing created).  A sign-in with another identity counts only when started
from this page (``/login/link/identity/<name>``), and links only once the person, then signed
in, confirms it (``/login/link/confirm``).  Wrong passwords and codes count against
``RATELIMIT_LOGIN`` (per IP address and per account to prove), on top of the proof's own limit
(:data:`~maillage.auth.identities.proofs.MAX_FAILURES`); codes sent count against
``RATELIMIT_PASSWORD_RESET`` per IP address and ``RATELIMIT_PASSWORD_RESET_PER_ADDRESS`` per
account.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from maillage.auth.identities import flow, proofs
from maillage.auth.identities.blueprint import blueprint
from maillage.auth.identities.forms import code_form, password_form
from maillage.auth.local.limits import (
    count_attempt,
    limited,
    login_limits,
    reset_limits,
    reset_limits_per_address,
)
from maillage.auth.providers.registry import providers
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db


def _proof_account() -> str:
    """The account to prove (whichever browser or identity asks)."""
    return f"user:{flow.pending_account_id()}"


def _proof_mailbox() -> str:
    return f"link-code:user:{flow.pending_account_id()}"


def _current():
    """This browser's proof and its provider, or (None, None)."""
    proof = flow.pending_proof()
    provider = providers().get(proof.provider) if proof is not None else None
    if proof is None or provider is None:
        session.pop(flow.PROOF_KEY, None)
        return None, None
    return proof, provider


def _over(message: str | None = None):
    flash(
        message or _("Cette demande de liaison n'est plus valable : recommencez la connexion."),
        "error",
    )
    return redirect(url_for("auth.login"))


def _page(proof, provider, status: int = 200, *, password=None, code=None, error=None):
    page = render_template(
        "auth/link_proof.html",
        proof=proof,
        provider=provider,
        email=proof.info.get("email") or proof.user.email,
        password_form=password or password_form(),
        code_form=code or code_form(),
        others=[other for name, other in providers().items() if name != provider.name],
        local_enabled=current_app.config["AUTH_LOCAL_ENABLED"],
        code_sent=proof.codes_sent > 0,
        can_send=proofs.can_send_code(proof),
        error=error,
    )
    response = current_app.make_response((page, status))
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.route("/login/link")
def link_proof():
    if current_user.is_authenticated:
        return redirect(url_for("portal.home"))
    proof, provider = _current()
    if proof is None:
        return _over()
    return _page(proof, provider)


def _ended(exc: proofs.ProofEnded):
    count_attempt()
    session.pop(flow.PROOF_KEY, None)
    db.session.commit()
    return _over(str(exc))


@blueprint.route("/login/link/password", methods=["POST"])
@limited(login_limits)
@limited(login_limits, key_func=_proof_account)
def link_proof_password():
    proof, provider = _current()
    if proof is None or current_user.is_authenticated:
        return _over()
    form = password_form()
    if not current_app.config["AUTH_LOCAL_ENABLED"] or not form.validate_on_submit():
        return _page(proof, provider, 400, password=form)
    try:
        right = proofs.check_password(proof, form.password.data, form.second_factor.data)
    except proofs.ProofEnded as exc:
        return _ended(exc)
    if not right:
        count_attempt()
        db.session.commit()
        form.form_errors.append(_("Mot de passe ou code de double authentification incorrect."))
        return _page(proof, provider, 400, password=form)
    return flow.finish_proof(proof, by="password")


@blueprint.route("/login/link/code/send", methods=["POST"])
@limited(reset_limits)
@limited(reset_limits_per_address, key_func=_proof_mailbox)
def link_proof_send_code():
    proof, provider = _current()
    if proof is None or current_user.is_authenticated:
        return _over()
    try:
        proofs.send_code(proof, provider.title)
    except OperationError as exc:
        return _page(proof, provider, 400, error=str(exc))
    count_attempt()
    db.session.commit()
    flash(_("Un code vient d'être envoyé à l'adresse du compte."), "success")
    return redirect(url_for(".link_proof", _anchor="proof-code"), 303)


@blueprint.route("/login/link/code", methods=["POST"])
@limited(login_limits)
@limited(login_limits, key_func=_proof_account)
def link_proof_code():
    proof, provider = _current()
    if proof is None or current_user.is_authenticated:
        return _over()
    form = code_form()
    if not form.validate_on_submit():
        return _page(proof, provider, 400, code=form)
    try:
        right = proofs.check_code(proof, form.code.data)
    except proofs.ProofEnded as exc:
        return _ended(exc)
    if not right:
        count_attempt()
        db.session.commit()
        form.code.errors.append(_("Ce code n'est pas le bon, ou il a expiré."))
        return _page(proof, provider, 400, code=form)
    return flow.finish_proof(proof, by="code")


@blueprint.route("/login/link/identity/<name>", methods=["POST"])
def link_proof_by_identity(name: str):
    """The person chose to prove the account by signing in with another of its identities."""
    proof, provider = _current()
    other = providers().get(name)
    if proof is None or current_user.is_authenticated:
        return _over()
    if other is None or other.name == provider.name:
        return _page(proof, provider, 400)
    flow.sign_in_from_proof(proof, other)
    return redirect(other.sign_in_url(proof.next_url), 303)


def _confirmation(proof):
    waiting = providers().get(proof.provider)
    page = render_template(
        "auth/link_confirm.html",
        proof=proof,
        provider_title=waiting.title if waiting is not None else proof.provider,
        email=proof.info.get("email") or "",
    )
    response = current_app.make_response(page)
    response.headers["Cache-Control"] = "no-store"
    return response


def _no_longer_valid():
    session.pop(flow.CONFIRM_KEY, None)
    flash(_("Cette demande de liaison n'est plus valable : rien n'a été lié."), "error")
    return redirect(url_for("portal.home"))


@blueprint.route("/login/link/confirm", methods=["GET", "POST"])
@login_required
def link_confirm():
    """After a sign-in with another identity, started from the proof page: the person says
    whether the waiting identity joins their account (nothing is linked before)."""
    proof = flow.proof_to_confirm(current_user)
    if proof is None:
        return _no_longer_valid()
    if request.method == "GET":
        return _confirmation(proof)
    return flow.confirm_link(proof)


@blueprint.route("/login/link/decline", methods=["POST"])
@login_required
def link_decline():
    return flow.decline_link(flow.proof_to_confirm(current_user))


@blueprint.route("/login/link/separate", methods=["POST"])
def link_proof_separate():
    proof, _provider = _current()
    if proof is None or current_user.is_authenticated:
        return _over()
    return flow.finish_separately(proof)


@blueprint.route("/login/link/cancel", methods=["POST"])
def link_proof_cancel():
    proof, _provider = _current()
    if proof is not None:
        proofs.cancel(proof)
    session.pop(flow.PROOF_KEY, None)
    db.session.commit()
    flash(_("Rien n'a été lié ni créé : vous n'êtes pas connecté."), "info")
    return redirect(url_for("auth.login"))
