"""The addresses registered at the providers, built on the public base URL."""

from __future__ import annotations

from flask import current_app, url_for


def external_url(endpoint: str, **values) -> str:
    """An absolute URL on ``BASE_URL`` (not on the host the request came through)."""
    return current_app.config["BASE_URL"] + url_for(endpoint, **values)


def callback_url(provider_name: str) -> str:
    return external_url("auth_oidc.callback", name=provider_name)


def logout_callback_url(provider_name: str) -> str:
    return external_url("auth_oidc.logout_callback", name=provider_name)


def backchannel_logout_url(provider_name: str) -> str:
    """The ``backchannel_logout_uri`` to declare at the provider."""
    return external_url("auth_oidc.backchannel_logout", name=provider_name)
