"""OIDC sign-in on the web: start the flow, come back from the provider, link an identity,
re-authenticate before a sensitive action, come back from the provider's sign-out.

The provider authenticates (``OIDCProvider.authenticate``); ``finish_sign_in`` from the
identities core decides the account, applies the access rules and opens the session (with the
provider's ``sub`` and ``sid``, for its back-channel logout).  Whatever goes wrong ends on a page
that says what happened in plain French, with the failure in the audit log
(``auth.login_failed``) and, when the provider could not be reached, in its status.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from maillage.auth.identities.flow import finish_sign_in, start_linking
from maillage.auth.identities.operations import record_failure
from maillage.auth.oidc import reauth, state
from maillage.auth.oidc.blueprint import blueprint
from maillage.auth.oidc.client import ProviderRefused, ProviderUnavailable
from maillage.auth.oidc.provider import Authentication, AuthenticationLevelTooLow, OIDCProvider
from maillage.auth.oidc.tokens import InvalidToken
from maillage.auth.oidc.urls import callback_url
from maillage.auth.providers.operations import record_error, record_success
from maillage.auth.providers.registry import get_provider
from maillage.platform.extensions import db
from maillage.platform.views_util import safe_next_url

#: longest text of a provider's error description shown or audited
DESCRIPTION_LENGTH = 300


def _provider(name: str) -> OIDCProvider:
    return get_provider(name, OIDCProvider)


def _page(provider, status: int, title: str, message: str, **context):
    page = render_template(
        "oidc/error.html", provider=provider, title=title, message=message, **context
    )
    return page, status


def _unreachable(provider: OIDCProvider, exc: ProviderUnavailable):
    record_failure(provider.name, "unreachable")
    record_error(provider.name, str(exc))
    current_app.logger.warning("OIDC provider %s unreachable: %s", provider.name, exc)
    return _page(
        provider,
        503,
        _("Service de connexion indisponible"),
        _(
            "%(title)s ne répond pas pour le moment : la connexion est impossible. Réessayez "
            "dans quelques minutes ou utilisez un autre moyen de connexion.",
            title=provider.title,
        ),
    )


# -- starting the flow -------------------------------------------------------------------------


def _start(
    provider: OIDCProvider,
    next_url: str | None,
    *,
    hints=None,
    reauth_user_id: int | None = None,
):
    flow = state.new_flow(provider.name, next_url, reauth_user_id)
    try:
        url = provider.authorization_url(
            callback_url(provider.name),
            flow.state,
            flow.nonce,
            flow.code_verifier,
            hints=hints,
            reauthenticate=reauth_user_id is not None,
        )
    except ProviderUnavailable as exc:
        return _unreachable(provider, exc)
    return redirect(url)


@blueprint.route("/login/oidc/<name>")
def login(name: str):
    """The sign-in button; ``login_hint`` and (ProConnect) ``idp_hint`` in the URL pass through
    to the provider when well-formed, so a portal may link straight to someone's sign-in."""
    provider = _provider(name)
    next_url = safe_next_url(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("portal.home"))
    return _start(provider, next_url, hints=request.args)


def start_reauthentication(user, next_url: str):
    """For a sensitive action: send ``user`` (signed in) to their provider for a new sign-in,
    back to ``next_url``; None when the account has no identity at a configured OIDC
    provider (the caller confirms by other means)."""
    provider = reauth.provider_for(user)
    if provider is None:
        return None
    return _start(provider, safe_next_url(next_url), reauth_user_id=user.id)


@blueprint.route("/login/oidc/<name>/link", methods=["POST"])
@login_required
def link(name: str):
    """The signed-in person adds this provider to their account (its next sign-in links)."""
    provider = _provider(name)
    start_linking(provider)
    return _start(provider, None)


# -- coming back -------------------------------------------------------------------------------


@blueprint.route("/login/oidc/<name>/callback")
def callback(name: str):
    provider = _provider(name)
    flow = state.pop_flow(provider.name, request.args.get("state"))
    if flow is None:
        return _unknown_state(provider)
    if request.args.get("error"):
        return _provider_error(provider)
    try:
        result = _authenticate(provider, flow)
    except (ProviderUnavailable, ProviderRefused, InvalidToken, AuthenticationLevelTooLow) as exc:
        return _failure(provider, exc)
    record_success(provider.name)
    db.session.commit()
    if flow.reauth_user_id is not None:
        return reauth.finish(provider, flow, result)
    return finish_sign_in(
        provider,
        result.info,
        next_url=flow.next_url,
        after_login=lambda: _keep(result),
        sid=result.sid,
    )


def _keep(result: Authentication) -> None:
    """What the new session keeps: the ID token (for the provider's sign-out) and when the
    provider authenticated the person."""
    state.keep_id_token(result.id_token)
    state.note_authentication(result.auth_time)


def _unknown_state(provider: OIDCProvider):
    record_failure(provider.name, "state")
    return _page(
        provider,
        400,
        _("Ce retour de connexion n'est plus valable"),
        _(
            "Il a déjà servi, il a expiré, ou la connexion avait été commencée dans un autre "
            "navigateur. Recommencez la connexion avec %(title)s.",
            title=provider.title,
        ),
    )


def _failure(provider: OIDCProvider, exc: Exception):
    if isinstance(exc, ProviderUnavailable):
        return _unreachable(provider, exc)
    if isinstance(exc, ProviderRefused):
        return _refused_code(provider, exc)
    if isinstance(exc, AuthenticationLevelTooLow):
        record_failure(provider.name, "acr", acr=exc.acr, required=list(exc.required))
        page = render_template(
            "oidc/acr_refused.html", provider=provider, acr=exc.acr, required=exc.required
        )
        return page, 403
    return _invalid_token(provider, exc)


def _authenticate(provider: OIDCProvider, flow: state.Flow) -> Authentication:
    code = request.args.get("code")
    if not code:
        raise InvalidToken("pas de code dans la réponse")
    _check_returned_issuer(provider)
    return provider.authenticate(
        code,
        callback_url(provider.name),
        flow.nonce,
        flow.code_verifier,
    )


def _check_returned_issuer(provider: OIDCProvider) -> None:
    """RFC 9207, against mix-up attacks: the ``iss`` of the authorization response must be the
    provider's issuer; a provider that announces the parameter must send it."""
    metadata = provider.client.metadata()
    returned_issuer = request.args.get("iss")
    if returned_issuer is None:
        if metadata.get("authorization_response_iss_parameter_supported") is True:
            raise InvalidToken("émetteur absent de la réponse (RFC 9207)")
        return
    if returned_issuer != metadata["issuer"]:
        raise InvalidToken("émetteur inattendu dans la réponse")


def _provider_error(provider: OIDCProvider):
    error = request.args.get("error", "")[:100]
    description = request.args.get("error_description", "")[:DESCRIPTION_LENGTH] or None
    record_failure(provider.name, "provider_error", error=error, description=description)
    if error == "access_denied":
        title = _("Connexion annulée")
        message = _(
            "La connexion avec %(title)s a été annulée ou refusée : vous n'êtes pas connecté.",
            title=provider.title,
        )
        status = 403
    else:
        title = _("Connexion refusée par le fournisseur d'identité")
        message = _(
            "%(title)s n'a pas accepté la demande de connexion (code « %(error)s »). "
            "Si cela se reproduit, prévenez l'administrateur de la plateforme.",
            title=provider.title,
            error=error,
        )
        status = 400
    return _page(provider, status, title, message, provider_message=description)


def _refused_code(provider: OIDCProvider, exc: ProviderRefused):
    record_failure(provider.name, "token_refused", error=exc.error[:100])
    return _page(
        provider,
        400,
        _("Connexion refusée par le fournisseur d'identité"),
        _(
            "%(title)s a refusé de confirmer la connexion (code « %(error)s ») : elle a peut-être "
            "trop tardé. Recommencez la connexion.",
            title=provider.title,
            error=exc.error[:100],
        ),
    )


def _invalid_token(provider: OIDCProvider, exc: InvalidToken):
    record_failure(provider.name, "invalid_token", detail=str(exc)[:DESCRIPTION_LENGTH])
    current_app.logger.warning("OIDC provider %s: response refused: %s", provider.name, exc)
    return _page(
        provider,
        400,
        _("Réponse du fournisseur d'identité refusée"),
        _(
            "La réponse de %(title)s n'a pas passé nos contrôles de sécurité : la connexion est "
            "refusée. Si cela se reproduit, prévenez l'administrateur de la plateforme.",
            title=provider.title,
        ),
        detail=str(exc)[:DESCRIPTION_LENGTH],
    )


# -- the provider's sign-out -------------------------------------------------------------------


@blueprint.route("/logout/oidc/<name>/callback")
def logout_callback(name: str):
    """Back from the provider's sign-out (the local session ended before leaving)."""
    provider = _provider(name)
    if not state.finish_logout(provider.name, request.args.get("state")):
        return _page(
            provider,
            400,
            _("Déconnexion non confirmée"),
            _(
                "Ce retour de %(title)s ne correspond à aucune déconnexion demandée depuis ce "
                "navigateur : il est ignoré.",
                title=provider.title,
            ),
        )
    flash(
        _("Vous êtes déconnecté, de cette plateforme comme de %(title)s.", title=provider.title),
        "success",
    )
    return redirect(url_for("portal.home"))
