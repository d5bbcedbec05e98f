from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user, login_required

from maillage.communities.permissions import can
from maillage.platform.admin.blueprint import blueprint
from maillage.platform.admin.sections import admin_sections


@blueprint.route("/admin")
@login_required
def index():
    if not can(current_user, "admin"):
        abort(403)
    return render_template("admin/index.html", sections=admin_sections())
