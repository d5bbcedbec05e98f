"""A configured OpenID Connect provider (authorization code flow with PKCE).

Settings (one ``AUTH_PROVIDERS`` entry, see docs/auth-oidc.md): ``discovery_url`` (or
``server_metadata_url``), ``client_id``, ``client_secret``, ``client_auth_method``
(``client_secret_basic`` or ``client_secret_post``), ``scopes``, ``claims_mapping``,
``trust_email``, ``organisation_kind``, ``access_rules``, ``allowed_algorithms``, ``acr_values``
(the minimum level, see :mod:`maillage.auth.oidc.acr`), ``acr_levels``, ``timeout``, ``title``.
The provider authenticates and returns an IdentityInfo; the identities core decides which
account that is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from maillage.auth.identities.info import IdentityInfo
from maillage.auth.oidc.acr import AcrPolicy, Level, ordered_levels
from maillage.auth.oidc.client import ClientSettings, OIDCClient, origin
from maillage.auth.oidc.tokens import InvalidToken, KeySource, read_userinfo, verify_id_token
from maillage.auth.providers.base import AuthProvider
from maillage.communities.organisations.models import OrganisationKind
from maillage.platform.config import ConfigError

AUTH_METHODS = ("client_secret_basic", "client_secret_post")
ASYMMETRIC_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
SYMMETRIC_ALGORITHMS = ("HS256", "HS384", "HS512")
#: IdentityInfo fields a configuration may map to claims (None: not read)
MAPPABLE_FIELDS = (
    "email",
    "given_name",
    "family_name",
    "username",
    "organisation_siret",
    "organisation_name",
    "idp_id",
    "groups",
)
#: claims about the token rather than the person: not kept on the identity
PROTOCOL_CLAIMS = frozenset(
    {"aud", "exp", "iat", "nbf", "nonce", "at_hash", "c_hash", "s_hash", "sid", "azp", "jti"}
)
DEFAULT_TIMEOUT = 10.0
#: a ``login_hint``: what the person types to sign in (OIDC Core 3.1.2.1), no space or control
LOGIN_HINT_RE = re.compile(r"^[^\s\x00-\x1f\x7f]{1,254}$")
#: what a re-authentication asks for: a new sign-in now, whatever session the provider has
REAUTHENTICATION_PARAMS = {"prompt": "login", "max_age": "0"}


class AuthenticationLevelTooLow(Exception):
    """The ID token's ``acr`` does not reach the minimum the configuration requires."""

    def __init__(self, acr: str | None, required: tuple[str, ...]) -> None:
        super().__init__(f"acr {acr!r} below {required}")
        self.acr = acr
        self.required = required


@dataclass(frozen=True)
class Authentication:
    """What a successful authentication gives: who (``info``), the ID token to keep for the
    provider's sign-out and its verified claims (``sid``, ``auth_time``…)."""

    info: IdentityInfo
    id_token: str
    claims: dict

    @property
    def subject(self) -> str:
        return str(self.claims["sub"])

    @property
    def sid(self) -> str | None:
        """The provider's session id (OIDC Front/Back-Channel Logout), when it sends one."""
        sid = self.claims.get("sid")
        return sid if isinstance(sid, str) and sid else None

    @property
    def auth_time(self) -> int | None:
        """When the person last proved who they are at the provider (POSIX time), if told."""
        value = self.claims.get("auth_time")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return int(value)


def _words(value, setting: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise ConfigError(f"{setting}: a list of strings (or one space-separated string)")


class OIDCProvider(AuthProvider):
    type = "oidc"
    login_template = "oidc/login_button.html"
    required_settings = ("client_id", "client_secret")
    default_title: ClassVar[str | None] = None
    default_scopes: ClassVar[tuple[str, ...]] = ("openid", "email", "profile")
    #: scopes always requested, whatever the configuration says
    required_scopes: ClassVar[tuple[str, ...]] = ("openid",)
    default_claims_mapping: ClassVar[dict[str, str | None]] = {
        "email": "email",
        "given_name": "given_name",
        "family_name": "family_name",
        "username": "preferred_username",
        "organisation_siret": None,
        "organisation_name": None,
        "idp_id": None,
        "groups": None,
    }
    default_trust_email: ClassVar[bool] = False
    default_organisation_kind: ClassVar[str | None] = None
    default_auth_method: ClassVar[str] = "client_secret_basic"
    default_acr_values: ClassVar[tuple[str, ...]] = ()
    #: the levels this type knows (ProConnect's); a generic provider's come from ``acr_levels``
    known_acr_levels: ClassVar[dict[str, Level]] = {}
    #: the authorization request parameters a sign-in URL may pass through (validated)
    hint_parameters: ClassVar[tuple[str, ...]] = ("login_hint",)

    def __init__(self, name: str, settings: dict) -> None:
        super().__init__(name, settings)
        where = f"auth provider {name!r}"
        discovery_url = settings.get("discovery_url") or settings.get("server_metadata_url")
        if not discovery_url or not str(discovery_url).startswith(("https://", "http://")):
            raise ConfigError(f"{where}: discovery_url (an http(s) URL) is required")
        self.title = settings.get("title") or self.default_title or name
        self.scopes = self._scopes(settings.get("scopes"), where)
        self.claims_mapping = self._claims_mapping(settings.get("claims_mapping") or {}, where)
        self.trust_email = bool(settings.get("trust_email", self.default_trust_email))
        self.organisation_kind = self._organisation_kind(settings, where)
        self.acr_values = _words(
            settings.get("acr_values", self.default_acr_values), f"{where}: acr_values"
        )
        self.acr = self._acr_policy(settings, where)
        self.algorithms = self._algorithms(settings, where)
        auth_method = settings.get("client_auth_method") or self.default_auth_method
        if auth_method not in AUTH_METHODS:
            raise ConfigError(f"{where}: client_auth_method must be one of {AUTH_METHODS}")
        try:
            timeout = float(settings.get("timeout") or DEFAULT_TIMEOUT)
        except (TypeError, ValueError):
            timeout = 0
        if timeout <= 0:
            raise ConfigError(f"{where}: timeout must be a positive number of seconds")
        self.client_id = str(settings["client_id"])
        secret = str(settings["client_secret"])
        self.client = OIDCClient(
            ClientSettings(str(discovery_url), self.client_id, secret, auth_method, timeout)
        )
        self.keys = KeySource(self.client.jwks, secret)

    # -- configuration ---------------------------------------------------------------------------

    def _scopes(self, configured, where: str) -> tuple[str, ...]:
        scopes = _words(configured, f"{where}: scopes") if configured else self.default_scopes
        return tuple(dict.fromkeys((*self.required_scopes, *scopes)))

    def _claims_mapping(self, configured: dict, where: str) -> dict[str, str | None]:
        unknown = set(configured) - set(MAPPABLE_FIELDS)
        if unknown:
            raise ConfigError(f"{where}: claims_mapping: unknown fields {sorted(unknown)}")
        return {**self.default_claims_mapping, **configured}

    def _organisation_kind(self, settings: dict, where: str) -> str | None:
        kind = settings.get("organisation_kind", self.default_organisation_kind)
        if kind is not None and kind not in {value.value for value in OrganisationKind}:
            raise ConfigError(f"{where}: organisation_kind {kind!r} is not an organisation kind")
        return kind

    def _acr_policy(self, settings: dict, where: str) -> AcrPolicy:
        configured = settings.get("acr_levels")
        if configured and self.known_acr_levels:
            raise ConfigError(f"{where}: acr_levels: this type's levels are fixed")
        if configured:
            levels = ordered_levels(_words(configured, f"{where}: acr_levels"))
            return AcrPolicy.build(self.acr_values, levels, where, strict=True)
        return AcrPolicy.build(self.acr_values, self.known_acr_levels, where, strict=False)

    def _algorithms(self, settings: dict, where: str) -> tuple[str, ...]:
        configured = settings.get("allowed_algorithms")
        if not configured:
            return ASYMMETRIC_ALGORITHMS
        algorithms = _words(configured, f"{where}: allowed_algorithms")
        unknown = set(algorithms) - set(ASYMMETRIC_ALGORITHMS) - set(SYMMETRIC_ALGORITHMS)
        if unknown:  # "none" included: an unsigned token is never accepted
            raise ConfigError(f"{where}: allowed_algorithms: not accepted {sorted(unknown)}")
        if set(algorithms) & set(SYMMETRIC_ALGORITHMS) and len(settings["client_secret"]) < 32:
            raise ConfigError(f"{where}: HS* algorithms need a client_secret of 32 characters")
        return algorithms

    # -- the flow --------------------------------------------------------------------------------

    def authorization_params(self, reauthenticate: bool = False) -> dict:
        """Extra parameters of the authorization request: the levels that reach the minimum
        (the minimum first: ``acr_values`` lists them in order of preference) and, to confirm
        who is at the keyboard before a sensitive action, a new sign-in whatever session the
        provider has (``prompt=login``, ``max_age=0``: the ID token then carries
        ``auth_time``, which the callback checks)."""
        params = {}
        if self.acr.minimums:
            params["acr_values"] = " ".join(self.acr.accepted_values())
        if reauthenticate:
            params |= REAUTHENTICATION_PARAMS
        return params

    def valid_hints(self, values: Mapping[str, str | None]) -> dict[str, str]:
        """The sign-in hints of ``values`` this provider takes, those that are well-formed
        (others are left out: a hint only saves typing, a bad one must not stop a sign-in)."""
        hints = {}
        for name in self.hint_parameters:
            value = (values.get(name) or "").strip()
            if value and self.hint_is_valid(name, value):
                hints[name] = value
        return hints

    def hint_is_valid(self, name: str, value: str) -> bool:  # noqa: ARG002 - overridden
        return bool(LOGIN_HINT_RE.match(value))

    def authorization_url(
        self,
        redirect_uri: str,
        state: str,
        nonce: str,
        code_verifier: str,
        *,
        hints: Mapping[str, str | None] | None = None,
        reauthenticate: bool = False,
    ) -> str:
        return self.client.authorization_url(
            redirect_uri,
            " ".join(self.scopes),
            state,
            nonce,
            code_verifier,
            **self.authorization_params(reauthenticate),
            **self.valid_hints(hints or {}),
        )

    def check_claims(self, id_claims: dict) -> None:
        """Checks of this provider's own on the verified ID token: the level reaches the
        configured minimum (a stronger one is welcome, a weaker or unknown one is not)."""
        if not self.acr.satisfied_by(id_claims.get("acr")):
            raise AuthenticationLevelTooLow(id_claims.get("acr"), self.acr.minimums)

    def authenticate(
        self, code: str, redirect_uri: str, nonce: str, code_verifier: str
    ) -> Authentication:
        """Redeem ``code`` and verify what comes back (who it is, the ID token to keep)."""
        token = self.client.exchange_code(code, redirect_uri, code_verifier)
        issuer = self.client.metadata()["issuer"]
        id_token = token.get("id_token")
        if not id_token:
            raise InvalidToken("pas d'ID token dans la réponse")
        id_claims = verify_id_token(
            id_token,
            self.keys,
            self.algorithms,
            issuer=issuer,
            client_id=self.client_id,
            nonce=nonce,
            access_token=token.get("access_token"),
        )
        self.check_claims(id_claims)
        claims = dict(id_claims)
        access_token = token.get("access_token")
        response = self.client.userinfo(access_token) if access_token else None
        if response is not None:
            claims |= read_userinfo(
                *response,
                self.keys,
                self.algorithms,
                issuer=issuer,
                client_id=self.client_id,
                subject=id_claims["sub"],
            )
        return Authentication(self.identity_info(claims), id_token, dict(id_claims))

    # -- what the claims say ---------------------------------------------------------------------

    def _claim(self, claims: dict, field: str, limit: int = 200) -> str | None:
        name = self.claims_mapping.get(field)
        value = claims.get(name) if name else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            return None
        return value.strip()[:limit] or None

    def _email_verified(self, claims: dict) -> bool:
        """An address counts as verified only when the provider says so (``email_verified``
        true: a missing claim is not a yes) and the configuration believes it
        (``trust_email``)."""
        verified = claims.get("email_verified")
        return self.trust_email and (verified is True or verified == "true")

    def identifier(self, sub: str) -> str:
        """The account key: ``sub`` alone, unique at the issuer (OIDC Core 2; ProConnect's is
        unique across its identity providers), whatever scopes the configuration asks for."""
        return sub

    def identity_info(self, claims: dict) -> IdentityInfo:
        idp_id = self._claim(claims, "idp_id")
        email = self._claim(claims, "email", 254)
        siret = self._claim(claims, "organisation_siret", 20)
        groups_claim = self.claims_mapping.get("groups")
        groups = claims.get(groups_claim) if groups_claim else None
        return IdentityInfo(
            provider=self.name,
            identifier=self.identifier(str(claims["sub"])),
            email=email,
            email_verified=bool(email) and self._email_verified(claims),
            given_name=self._claim(claims, "given_name") or "",
            family_name=self._claim(claims, "family_name") or "",
            username_hint=self._claim(claims, "username", 60) or "",
            organisation_siret=siret.replace(" ", "") if siret else None,
            organisation_name=self._claim(claims, "organisation_name"),
            organisation_kind=self.organisation_kind,
            idp_id=idp_id,
            groups=tuple(str(group) for group in groups) if isinstance(groups, list) else (),
            data={key: value for key, value in claims.items() if key not in PROTOCOL_CLAIMS},
        )

    # -- status and pages ------------------------------------------------------------------------

    def check(self) -> None:
        """Fetch the discovery document again; raises ProviderUnavailable (no secret in it)."""
        self.client.metadata(force=True)

    def form_action_origins(self) -> set[str]:
        """Where a form posted here may be redirected to: the provider's sign-in and sign-out
        pages (known from discovery once fetched; the discovery URL's origin meanwhile)."""
        metadata = self.client.cached_metadata()
        urls = (
            self.client.settings.discovery_url,
            metadata.get("authorization_endpoint"),
            metadata.get("end_session_endpoint"),
        )
        return {found for found in map(origin, urls) if found}
