"""ProConnect, the French State's sign-in federation for professionals (ex-AgentConnect).

What differs from a generic provider (see https://partenaires.proconnect.gouv.fr/):

- scopes ``openid given_name usual_name email uid siret`` always, plus ``idp_id`` by default and
  any of ``organizational_unit belonging_population phone siren…`` when configured;
- ``usual_name`` is the family name, ``siret`` names the establishment, ``idp_id`` the identity
  provider (the employer's own sign-in); the account key is ``sub`` alone (ProConnect's
  documentation recommends it for reconciliation: it does not depend on the ``idp_id`` scope);
- the authentication level: ``acr_values`` (default ``eidas1``) is a minimum in ProConnect's
  order of levels (:mod:`maillage.auth.oidc.acr`); the request lists every level that reaches
  it, in ``acr_values`` and as the essential values of the ``claims`` parameter (ProConnect
  compares an essential ``acr`` exactly, so listing only the minimum would refuse a stronger
  sign-in), and the callback checks the ID token's ``acr`` against the minimum;
- ``login_hint`` (an e-mail address) and ``idp_hint`` (an ``idp_id``: straight to that identity
  provider) pass through from the sign-in URL; a re-authentication asks ``prompt=login`` and the
  ``auth_time`` claim (ProConnect documents no ``max_age``, and refuses unknown parameters);
- organisations met through it are State services unless configured otherwise, the client
  authenticates with ``client_secret_post`` and userinfo comes as a signed JWT (read whatever
  the format).
"""

from __future__ import annotations

import json
import re

from maillage.auth.oidc.acr import PROCONNECT_LEVELS
from maillage.auth.oidc.provider import OIDCProvider

REQUIRED_SCOPES = ("openid", "given_name", "usual_name", "email", "uid", "siret")
#: the optional scopes ProConnect knows (the configuration adds them to the required ones)
OPTIONAL_SCOPES = ("idp_id", "organizational_unit", "belonging_population", "phone", "siren")
#: ProConnect's ``login_hint`` is an e-mail address to pre-fill
EMAIL_HINT_RE = re.compile(r"^[^@\s\x00-\x1f\x7f]{1,64}@[^@\s\x00-\x1f\x7f]{1,189}$")
#: an ``idp_id``: ProConnect's identifiers of identity providers (UUIDs, short names)
IDP_HINT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")


class ProConnectProvider(OIDCProvider):
    type = "proconnect"
    login_template = "oidc/proconnect_button.html"
    default_title = "ProConnect"
    required_scopes = REQUIRED_SCOPES
    default_scopes = (*REQUIRED_SCOPES, "idp_id")
    default_claims_mapping = {
        **OIDCProvider.default_claims_mapping,
        "family_name": "usual_name",
        "username": None,  # uid is the identity provider's own key, seldom a readable name
        "organisation_siret": "siret",
        "idp_id": "idp_id",
    }
    default_trust_email = True
    default_organisation_kind = "state_service"
    default_auth_method = "client_secret_post"
    default_acr_values = ("eidas1",)
    known_acr_levels = PROCONNECT_LEVELS
    hint_parameters = ("login_hint", "idp_hint")

    def authorization_params(self, reauthenticate: bool = False) -> dict:
        params = {}
        id_token_claims = {}
        if self.acr.minimums:
            accepted = list(self.acr.accepted_values())
            params["acr_values"] = " ".join(accepted)
            id_token_claims["acr"] = {"essential": True, "values": accepted}
        if reauthenticate:
            params["prompt"] = "login"
            id_token_claims["auth_time"] = {"essential": True}
        if id_token_claims:
            params["claims"] = json.dumps({"id_token": id_token_claims}, separators=(",", ":"))
        return params

    def hint_is_valid(self, name: str, value: str) -> bool:
        pattern = EMAIL_HINT_RE if name == "login_hint" else IDP_HINT_RE
        return bool(pattern.match(value))
