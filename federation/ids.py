"""Stable ActivityPub ids for everything that can federate.

Every id is built from the configured public base URL (``MAILLAGE_BASE_URL``) so that local objects
carry a fetchable URL from the moment they are created; federation is never a retrofit.
"""

from __future__ import annotations

from flask import current_app

KIND_PATHS = {
    "user": "u",
    "community": "c",
    "post": "post",
    "comment": "comment",
    "wiki_page": "wiki",
    "topic": "topic",
    "reply": "reply",
    "event": "event",
    "poll": "poll",
}


def local_ap_id(kind: str, key: str | int) -> str:
    """The canonical URL id of a local object, e.g. ``https://example.org/c/acheteurs``."""
    return f"{current_app.config['BASE_URL']}/{KIND_PATHS[kind]}/{key}"
