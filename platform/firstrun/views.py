"""The setup pages: the one-time link's form, the page shown while setup is pending, and the
administrator's next steps once it is done."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.routing import BuildError

from maillage.auth.passwords import MIN_LENGTH
from maillage.auth.session import start_session
from maillage.platform.admin.sections import admin_sections, register_admin_section
from maillage.platform.extensions import db
from maillage.platform.firstrun.blueprint import blueprint
from maillage.platform.firstrun.forms import SetupForm
from maillage.platform.firstrun.gate import installing_response
from maillage.platform.firstrun.operations import (
    SetupLinkError,
    check_setup_token,
    set_up_with_link,
)
from maillage.platform.firstrun.queries import setup_done
from maillage.platform.views_util import flash_operation_errors, require_admin

register_admin_section(
    "first-steps",
    _l("Premiers pas"),
    _l("Ce qui reste à faire après l'installation : organisations, connexion, pages légales."),
    "firstrun.next_steps",
    order=0,
)

#: The next steps after setup: (title, explanation, endpoints of the page where it is done —
#: the first one this app serves is linked).
NEXT_STEPS = (
    (
        _l("Créer les organisations"),
        _l(
            "Ajoutez les organisations dont viendront les membres (services, collectivités, "
            "associations) ; celles que les personnes proposent en s'inscrivant attendent "
            "votre validation."
        ),
        ("organisations.admin_list", "organisations.admin_index", "organisations.admin"),
    ),
    (
        _l("Configurer les fournisseurs d'identité"),
        _l(
            "ProConnect, Keycloak ou l'annuaire LDAP de votre organisation se déclarent dans "
            "la configuration (voir le README) ; cette page montre leur état."
        ),
        ("identities.admin_providers",),
    ),
    (
        _l("Relire les pages légales"),
        _l(
            "Mentions légales, données personnelles, déclaration d'accessibilité et charte : "
            "adaptez les textes proposés par défaut à votre organisation."
        ),
        ("legal.admin", "legal.admin_index"),
    ),
    (
        _l("Ouvrir une première communauté"),
        _l("Créez une communauté publique et invitez ses premiers membres."),
        ("community.create",),
    ),
)


def _setup_link_error(error: SetupLinkError):
    return render_template(
        "firstrun/link_error.html", message=str(error), status=error.status
    ), error.status


def _first_url(endpoints: tuple[str, ...]) -> str | None:
    for endpoint in endpoints:
        if endpoint in current_app.view_functions:
            try:
                return url_for(endpoint)
            except BuildError:
                continue
    return None


@blueprint.route("/setup")
def installing():
    """Where someone lands without the link: the pending page, or home once set up."""
    if setup_done():
        return redirect(url_for("portal.home"))
    return installing_response()


@blueprint.route("/setup/<token>", methods=["GET", "POST"])
def setup(token: str):
    try:
        check_setup_token(token)
    except SetupLinkError as error:
        db.session.rollback()
        return _setup_link_error(error)
    form = SetupForm()
    if form.validate_on_submit():
        with flash_operation_errors(form):
            try:
                admin = set_up_with_link(token, **form.fields_for_setup())
            except SetupLinkError as error:
                db.session.rollback()
                return _setup_link_error(error)
            db.session.commit()
            current_app.logger.info("first-run setup done by %s", admin.username)
            start_session(admin)
            flash(_("L'installation est terminée. Bienvenue dans l'administration !"), "success")
            return redirect(url_for(".next_steps"))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "firstrun/setup.html", form=form, token=token, min_password_length=MIN_LENGTH
    ), status


@blueprint.route("/admin/premiers-pas")
@login_required
def next_steps():
    """The administration home, headed by what remains to do after installation."""
    require_admin()
    steps = [(title, text, _first_url(endpoints)) for title, text, endpoints in NEXT_STEPS]
    sections = [(s, url) for s, url in admin_sections() if s.key != "first-steps"]
    return render_template("firstrun/next_steps.html", steps=steps, sections=sections)
