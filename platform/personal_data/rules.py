"""An export is its owner's alone (the bell shows its notice only to them)."""

from __future__ import annotations

from maillage.communities.permissions import rule
from maillage.platform.personal_data.models import ExportRequest


@rule(ExportRequest, "view")
def _view_export(user, export):
    return user is not None and export.user_id == user.id
