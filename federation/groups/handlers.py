"""Imports every handler module so that ``registry.HANDLERS`` is complete."""

from maillage.federation.groups import (  # noqa: F401
    announce,
    content,
    follows,
    group_moderation,
    votes,
)
