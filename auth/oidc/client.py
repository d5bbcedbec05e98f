"""Talking to an OpenID provider over HTTP: discovery, keys, the token and userinfo endpoints.

Every call has a timeout.  A provider that cannot be reached (or answers with a server error or
something that is not what the protocol says) raises :class:`ProviderUnavailable`, whose message
names the step and the URL, never a secret; a provider that answers with an OAuth error (a code
refused at the token endpoint) raises :class:`ProviderRefused`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from authlib.common.urls import add_params_to_uri
from authlib.integrations.requests_client import OAuth2Session, OAuthError

from maillage.platform.db import done_beyond_database

#: how long discovery documents and key sets are kept before being fetched again
METADATA_TTL = 3600
#: the shortest delay between two key set fetches caused by an unknown key id
JWKS_REFETCH_DELAY = 60
REQUIRED_METADATA = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")


class ProviderUnavailable(RuntimeError):
    """The provider could not be reached or did not answer as the protocol says."""


class ProviderRefused(RuntimeError):
    """The provider answered with an OAuth error (``error`` is its code)."""

    def __init__(self, error: str, description: str | None = None) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description


def origin(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def _describe(exc: Exception) -> str:
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, requests.Timeout):
        return "délai dépassé"
    if isinstance(exc, requests.ConnectionError):
        return "connexion impossible"
    return type(exc).__name__


@dataclass(frozen=True)
class ClientSettings:
    discovery_url: str
    client_id: str
    client_secret: str
    auth_method: str
    timeout: float


class OIDCClient:
    """One provider's endpoints, with its discovery document and keys cached in the process."""

    def __init__(self, settings: ClientSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._metadata: dict | None = None
        self._metadata_at = 0.0
        self._jwks: dict | None = None
        self._jwks_at = 0.0

    # -- discovery and keys --------------------------------------------------------------------

    def _get_json(self, step: str, url: str) -> dict:
        try:
            response = requests.get(
                url, timeout=self.settings.timeout, headers={"Accept": "application/json"}
            )
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise ProviderUnavailable(f"{step} ({url}) : {_describe(exc)}") from exc
        if not isinstance(document, dict):
            raise ProviderUnavailable(f"{step} ({url}) : réponse inattendue")
        return document

    def metadata(self, force: bool = False) -> dict:
        """The discovery document, checked: its issuer must be the URL it was fetched from."""
        with self._lock:
            fresh = time.monotonic() - self._metadata_at < METADATA_TTL
            if self._metadata is not None and fresh and not force:
                return self._metadata
        url = self.settings.discovery_url
        document = self._get_json("découverte", url)
        missing = [key for key in REQUIRED_METADATA if not document.get(key)]
        if missing:
            raise ProviderUnavailable(f"découverte ({url}) : {', '.join(missing)} manquant")
        expected = url.split("/.well-known/", 1)[0].rstrip("/")
        if "/.well-known/" in url and document["issuer"].rstrip("/") != expected:
            raise ProviderUnavailable(
                f"découverte ({url}) : l'émetteur annoncé {document['issuer']!r} ne correspond pas"
            )
        with self._lock:
            self._metadata, self._metadata_at = document, time.monotonic()
        return document

    def cached_metadata(self) -> dict:
        """What discovery said, when it has been fetched in this process (never fetches)."""
        return self._metadata or {}

    def jwks(self, refresh: bool = False) -> dict:
        """The provider's public keys; ``refresh`` asks again (an unknown key id: rotation),
        at most once a minute."""
        with self._lock:
            age = time.monotonic() - self._jwks_at
            recent = age < (JWKS_REFETCH_DELAY if refresh else METADATA_TTL)
            if self._jwks is not None and recent:
                return self._jwks
        document = self._get_json("clés", self.metadata()["jwks_uri"])
        if not isinstance(document.get("keys"), list):
            raise ProviderUnavailable("clés : pas de liste « keys »")
        with self._lock:
            self._jwks, self._jwks_at = document, time.monotonic()
        return document

    # -- the authorization code flow -----------------------------------------------------------

    def _session(self) -> OAuth2Session:
        return OAuth2Session(
            self.settings.client_id,
            self.settings.client_secret,
            token_endpoint_auth_method=self.settings.auth_method,
            code_challenge_method="S256",
        )

    def authorization_url(
        self, redirect_uri: str, scope: str, state: str, nonce: str, code_verifier: str, **extra
    ) -> str:
        with self._session() as oauth:
            url, _state = oauth.create_authorization_url(
                self.metadata()["authorization_endpoint"],
                state=state,
                code_verifier=code_verifier,
                redirect_uri=redirect_uri,
                scope=scope,
                nonce=nonce,
                **extra,
            )
        return url

    def exchange_code(self, code: str, redirect_uri: str, code_verifier: str) -> dict:
        """The token endpoint's answer to ``code`` (access token, ID token…)."""
        done_beyond_database()  # a code is redeemed once: this request must not run twice
        url = self.metadata()["token_endpoint"]
        try:
            with self._session() as oauth:
                token = oauth.fetch_token(
                    url,
                    grant_type="authorization_code",
                    code=code,
                    redirect_uri=redirect_uri,
                    code_verifier=code_verifier,
                    timeout=self.settings.timeout,
                )
        except OAuthError as exc:
            raise ProviderRefused(exc.error or "error", exc.description) from exc
        except (requests.RequestException, ValueError) as exc:
            raise ProviderUnavailable(f"jeton ({url}) : {_describe(exc)}") from exc
        return dict(token)

    def userinfo(self, access_token: str) -> tuple[str, bytes] | None:
        """The userinfo response as (media type, body), or None without a userinfo endpoint."""
        url = self.metadata().get("userinfo_endpoint")
        if not url:
            return None
        try:
            response = requests.get(
                url,
                timeout=self.settings.timeout,
                headers={"Authorization": f"Bearer {access_token}"},
            )
            response.raise_for_status()
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"userinfo ({url}) : {_describe(exc)}") from exc
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        return media_type, response.content

    def logout_url(self, id_token: str | None, state: str, post_logout_redirect_uri: str):
        """The end-session URL (RP-initiated logout), or None when the provider has none."""
        endpoint = self.metadata().get("end_session_endpoint")
        if not endpoint:
            return None
        params = {"state": state, "post_logout_redirect_uri": post_logout_redirect_uri}
        if id_token:
            params["id_token_hint"] = id_token
        else:
            params["client_id"] = self.settings.client_id
        return add_params_to_uri(endpoint, params)
