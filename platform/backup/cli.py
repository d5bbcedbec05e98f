"""``flask maillage backup`` and ``flask maillage restore``."""

from __future__ import annotations

COMMANDS: list = []
