"""ProConnect, the French State's sign-in federation for professionals (ex-AgentConnect).

What differs from a generic provider (see https://partenaires.proconnect.gouv.fr/):

- scopes ``openid given_name usual_name email uid siret`` always, plus ``idp_id`` by default and
  any of ``organizational_unit belonging_population phone siren…`` when configured;
- ``usual_name`` is the family name, ``siret`` names the establishment, ``idp_id`` the identity
  provider (the employer's own sign-in); the account key is ``idp_id`` + ``sub``;
- the authentication level is asked for through the ``claims`` parameter
  (``{"id_token": {"acr": {"essential": true, "values": [...]}}}``, from ``acr_values``,
  default ``eidas1``) and checked on the ID token;
- ProConnect vouches for e-mail addresses (``trust_email`` defaults to true), organisations met
  through it are State services unless configured otherwise, the client authenticates with
  ``client_secret_post`` and userinfo comes as a signed JWT (read whatever the format).
"""

from __future__ import annotations

import json

from maillage.auth.oidc.provider import OIDCProvider

REQUIRED_SCOPES = ("openid", "given_name", "usual_name", "email", "uid", "siret")
#: the optional scopes ProConnect knows (the configuration adds them to the required ones)
OPTIONAL_SCOPES = ("idp_id", "organizational_unit", "belonging_population", "phone", "siren")


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

    def authorization_params(self) -> dict:
        """ProConnect refuses unknown parameters: the level goes through ``claims``."""
        if not self.acr_values:
            return {}
        request = {"id_token": {"acr": {"essential": True, "values": list(self.acr_values)}}}
        return {"claims": json.dumps(request, separators=(",", ":"))}
