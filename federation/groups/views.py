"""The inboxes: the shared one (``/inbox``) and each actor's own.

Thin: read the body (capped), let ``inbox.receive`` check and store, commit, queue the
processing task, answer 202 — the work happens in the task, never in the request.
"""

from __future__ import annotations

import logging

from flask import abort, jsonify, request

from maillage.communities.community.models import Visibility
from maillage.federation.groups.blueprint import blueprint
from maillage.federation.groups.inbox import MAX_BODY, receive
from maillage.platform.extensions import csrf, db

log = logging.getLogger(__name__)


def _body() -> bytes | None:
    """The request body, or None when it is over the cap (read no further than the cap)."""
    if (request.content_length or 0) > MAX_BODY:
        return None
    body = request.stream.read(MAX_BODY + 1)
    return None if len(body) > MAX_BODY else body


def _queue(row_id: int) -> None:
    from maillage.federation.groups.tasks import process_inbox_activity

    try:
        process_inbox_activity.delay(row_id)
    except Exception:  # the broker is down: the sweeper finds the row
        log.exception("could not queue inbox activity %s; the sweeper will", row_id)


def _inbox(inbox_path: str):
    body = _body()
    if body is None:
        return jsonify(error="body too large"), 413
    verdict = receive(request.method, request.full_path, request.headers, body, inbox_path)
    if verdict.status != 202:
        db.session.rollback()
        return jsonify(error=verdict.reason), verdict.status
    db.session.commit()
    if verdict.row_id is not None:
        _queue(verdict.row_id)
    return "", 202


@blueprint.post("/inbox")
@csrf.exempt  # authenticated by the HTTP signature; no cookie is involved
def shared_inbox():
    return _inbox("/inbox")


@blueprint.post("/actor/inbox")
@csrf.exempt
def instance_inbox():
    return _inbox("/actor/inbox")


@blueprint.post("/c/<slug>/inbox")
@csrf.exempt
def community_inbox(slug: str):
    from maillage.federation.actors.queries import local_community

    community = local_community(slug)
    if community is None or community.visibility == Visibility.SECRET:
        abort(404)
    return _inbox(f"/c/{community.slug}/inbox")


@blueprint.post("/u/<username>/inbox")
@csrf.exempt
def user_inbox(username: str):
    from maillage.federation.actors.queries import local_user

    user = local_user(username)
    if user is None:
        abort(404)
    return _inbox(f"/u/{user.username}/inbox")
