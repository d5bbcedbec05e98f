"""Key pairs for new local actors, when FEDERATION_GENERATE_KEYS_ON_CREATE (default True).

With the setting off (the test suite, to stay fast), keys are made on first use instead.
"""

from __future__ import annotations

from flask import current_app

from maillage.communities import signals
from maillage.federation.actors import tombstones  # noqa: F401 (its session hooks)
from maillage.federation.actors.operations import ensure_key


def _generate_on_create() -> bool:
    return bool(current_app.config.get("FEDERATION_GENERATE_KEYS_ON_CREATE", True))


@signals.user_created.connect
def _key_for_new_user(user, **_kwargs) -> None:
    if user.local and _generate_on_create():
        ensure_key(user)


@signals.community_created.connect
def _key_for_new_community(community, **_kwargs) -> None:
    if community.local and _generate_on_create():
        ensure_key(community)
