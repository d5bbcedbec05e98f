"""Until setup is done, no page pretends to work: every request gets « Installation en cours »
(HTTP 503; JSON for the API), except what setup itself needs and what must always answer.

Federation (ActivityPub discovery, actors, inboxes) is left to its own views: before setup there
is no one to find, so they answer 404 themselves, and peers are not told to retry.

Once setup is done, :func:`~maillage.platform.firstrun.queries.setup_done` answers from memory,
so the gate costs no query on a set-up instance.
"""

from __future__ import annotations

from flask import jsonify, make_response, render_template, request
from flask_babel import lazy_gettext as _l

from maillage.platform.errors import wants_json
from maillage.platform.firstrun.blueprint import blueprint
from maillage.platform.firstrun.queries import setup_done

#: Endpoints served before setup: health checks, the stylesheet, the language switch.
OPEN_ENDPOINTS = frozenset({"static", "health.health", "portal.theme_css", "portal.set_language"})
#: Blueprints served before setup: the setup pages and the legal pages.
OPEN_BLUEPRINTS = ("firstrun.", "legal.")
#: Federation's machine endpoints (its admin pages live in other blueprints, and are gated).
FEDERATION_BLUEPRINTS = ("federation_actors.", "federation_groups.")

TITLE = _l("Installation en cours")
MESSAGE = _l(
    "Cette instance n'est pas encore configurée : son administrateur doit terminer l'installation."
)


def is_open(endpoint: str | None) -> bool:
    """Whether ``endpoint`` is served on an instance that is not set up."""
    if endpoint is None:  # no such page: the usual 404
        return True
    return (
        endpoint in OPEN_ENDPOINTS
        or endpoint.endswith(".static")
        or endpoint.startswith(OPEN_BLUEPRINTS)
    )


def _is_federation() -> bool:
    """Federation's own endpoints (WebFinger, NodeInfo, inboxes…): before setup they find nobody
    and answer 404 themselves.  Only the endpoint counts, never the ``Accept`` header: a page
    asked for as ``application/activity+json`` is still a page, and stays gated."""
    return (request.endpoint or "").startswith(FEDERATION_BLUEPRINTS)


def installing_response():
    """The answer of every gated request: a French page, or JSON for programs."""
    if wants_json():
        response = jsonify(error={"status": 503, "title": str(TITLE), "message": str(MESSAGE)})
        response.status_code = 503
    else:
        response = make_response(render_template("firstrun/installing.html"), 503)
    response.headers["Retry-After"] = "300"
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.before_app_request
def gate():
    if is_open(request.endpoint) or setup_done() or _is_federation():
        return None
    return installing_response()
