"""Community pages: directory, community page, membership flows, facilitator tools.

Thin handlers: parse, ask the permission policy, call an operation, render.  Secret communities
answer 404 to whoever may not view them, exactly like an unknown address.  Join, leave and
join-request buttons are plain forms (POST then redirect) that HTMX enhances: with the
``HX-Request`` header the view answers the membership area only.
"""

from __future__ import annotations

import math

from flask import (
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from maillage.communities.community import labels, operations, queries
from maillage.communities.community.blueprint import blueprint
from maillage.communities.community.forms import (
    CharterForm,
    CommunityForm,
    CommunityModulesForm,
    CommunitySettingsForm,
    DecisionForm,
    DirectoryFilterForm,
    InviteForm,
    MemberFilterForm,
    RequestJoinForm,
    RoleForm,
)
from maillage.communities.community.models import Community, Role
from maillage.communities.modules import MODULE_KEYS
from maillage.communities.permissions import can, roles_of
from maillage.communities.posts.forms import PostForm
from maillage.communities.posts.queries import community_posts, reaction_summary
from maillage.communities.users.models import User
from maillage.platform.errors import NotAllowed, OperationError
from maillage.platform.extensions import db, limiter, login_manager
from maillage.platform.views_util import (
    confirmation_page,
    current_viewer,
    flash_operation_errors,
    get_or_404,
    is_htmx,
    page_number,
)

MEMBERS_PAGE_SIZE = 50
REQUESTS_PAGE_SIZE = 50


@blueprint.context_processor
def _labels() -> dict:
    return labels.template_context()


@blueprint.app_template_global("console_sections")
def _console_sections(community: Community) -> list:
    """The console sections the viewer may open (the community menu links to the console)."""
    from maillage.communities.console import console_sections_for

    return console_sections_for(current_viewer(), community)


@blueprint.app_template_global("pending_request_count")
def pending_request_count(community: Community) -> int:
    """Join requests waiting in ``community`` when the viewer decides on them, else 0.

    Counted once per page and community (the nav, the header and the console share it).
    """
    if not can(current_viewer(), "approve_requests", community):
        return 0
    cache = g.setdefault("_pending_request_counts", {})
    if community.id not in cache:
        cache[community.id] = queries.pending_request_count(community)
    return cache[community.id]


@blueprint.app_template_global("join_requests_to_decide")
def join_requests_to_decide() -> list:
    """The viewer's communities with join requests waiting for them (one grouped count)."""
    return queries.pending_requests_to_decide(current_viewer())


def _visible_community(slug: str) -> Community:
    """The community at ``slug``, or 404 — also when the viewer may not know it exists."""
    community = queries.community_by_slug(slug)
    if community is None or not can(current_viewer(), "view", community):
        abort(404)
    return community


def _community_for(slug: str, action: str) -> Community:
    """A community the viewer sees and may do ``action`` on (403 otherwise)."""
    community = _visible_community(slug)
    if not can(current_viewer(), action, community):
        abort(403)
    return community


def _flash_form_errors(form) -> None:
    for errors in form.errors.values():
        for error in errors:
            flash(error, "error")


def _redirect(url: str):
    """Redirect after a POST; HTMX is told to load the new page rather than swap it in."""
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)


def _pagination(endpoint: str, page: int, total: int, per_page: int, **args) -> dict:
    pages = max(1, math.ceil(total / per_page))
    return {
        "page": page,
        "pages": pages,
        "previous_url": url_for(endpoint, page=page - 1, **args) if page > 1 else None,
        "next_url": url_for(endpoint, page=page + 1, **args) if page < pages else None,
    }


@blueprint.after_request
def _htmx_refresh_on_error(response):
    """HTMX does not swap error pages: reload instead, so the page shows the true state."""
    if is_htmx() and response.status_code >= 400:
        response.headers["HX-Refresh"] = "true"
    return response


# -- directory ---------------------------------------------------------------------------------


@blueprint.get("/communities")
def directory():
    viewer = current_viewer()
    form = DirectoryFilterForm(request.args)
    filters = form.filters()
    page, per_page = page_number(), current_app.config["DIRECTORY_PAGE_SIZE"]
    communities, total = queries.directory(viewer, page=page, per_page=per_page, **filters)
    in_url = {"q": filters["query"], "kind": filters["kind"], "topic": filters["topic"]}
    active = {key: value for key, value in in_url.items() if value}
    return render_template(
        "community/directory.html",
        form=form,
        communities=communities,
        total=total,
        filtered=bool(active),
        mix=queries.organisation_mix([community.id for community in communities]),
        my_roles=roles_of(viewer),
        pagination=_pagination(".directory", page, total, per_page, **active),
    )


# -- community page ----------------------------------------------------------------------------


@blueprint.get("/c/<slug>")
def show(slug: str):
    return _render_show(_visible_community(slug))


def _render_show(community: Community, request_form=None, status: int = 200):
    viewer = current_viewer()
    page, reactions, next_url = None, {}, None
    if can(viewer, "read", community):
        size = current_app.config["FEED_PAGE_SIZE"]
        page = community_posts(community, request.args.get("after"), size)
        reactions = reaction_summary([post.id for post in page.items], viewer)
        if page.next_cursor:
            next_url = url_for(".show", slug=community.slug, after=page.next_cursor)
    return render_template(
        "community/show.html",
        mix=queries.organisation_mix([community.id]).get(community.id, {}),
        page=page,
        reactions=reactions,
        next_url=next_url,
        **_membership_context(community, request_form),
    ), status


def _membership_context(community: Community, request_form=None) -> dict:
    viewer = current_viewer()
    status = queries.membership_status(community, viewer)
    if status.kind == "request" and request_form is None:
        request_form = RequestJoinForm()
    return {
        "community": community,
        "membership": status,
        "request_form": request_form,
        "charter_form": CharterForm(),
        "post_form": PostForm() if can(viewer, "post", community) else None,
        "login_url": url_for("auth.login", next=url_for(".show", slug=community.slug)),
    }


# -- joining and leaving -----------------------------------------------------------------------


def _membership_done(community: Community, could_read: bool):
    """After a membership change: the page again (no JavaScript) or the action area (HTMX)."""
    if not is_htmx():
        return _redirect(url_for(".show", slug=community.slug))
    if can(current_viewer(), "read", community) != could_read:
        # What the page shows besides the button changed (private content): reload it.
        response = make_response("", 204)
        response.headers["HX-Refresh"] = "true"
        return response
    return _membership_partial(community)


def _membership_partial(community: Community, request_form=None, status: int = 200):
    return render_template(
        "community/_membership_response.html",
        show_flashes=True,
        **_membership_context(community, request_form),
    ), status


def _membership_refused(community: Community, request_form=None):
    """An operation refused the change: the form again, with the message (nothing stored).

    HTMX swaps only successful responses, so the area is sent with 200 and the message in it."""
    if is_htmx():
        return _membership_partial(community, request_form)
    return _render_show(community, request_form, status=400)


@blueprint.post("/c/<slug>/join")
@login_required
def join(slug: str):
    community = _visible_community(slug)
    could_read = can(current_viewer(), "read", community)
    form = CharterForm()
    with flash_operation_errors():
        operations.join(community, current_viewer(), accept_charter=bool(form.accept_charter.data))
        db.session.commit()
        flash(_("Bienvenue ! Vous êtes membre de « %(name)s ».", name=community.name), "success")
        return _membership_done(community, could_read)
    return _membership_refused(community)


@blueprint.post("/c/<slug>/leave")
@login_required
def leave(slug: str):
    community = _visible_community(slug)
    could_read = can(current_viewer(), "read", community)
    question = _("Quitter la communauté « %(name)s » ?", name=community.name)
    if (asked := confirmation_page(question, confirm_label=_("Quitter"))) is not None:
        return asked
    with flash_operation_errors():
        operations.leave(community, current_viewer())
        db.session.commit()
        flash(_("Vous avez quitté « %(name)s ».", name=community.name), "success")
        if not can(current_viewer(), "view", community):  # a secret community: nothing left to see
            return _redirect(url_for(".directory"))
        return _membership_done(community, could_read)
    return _membership_refused(community)


@blueprint.post("/c/<slug>/request")
@login_required
def request_join(slug: str):
    community = _visible_community(slug)
    form = RequestJoinForm()
    if not form.validate_on_submit():
        return _membership_refused(community, form)
    with flash_operation_errors(form):
        operations.request_to_join(
            community,
            current_viewer(),
            form.message.data or "",
            accept_charter=bool(form.accept_charter.data),
        )
        db.session.commit()
        flash(
            _("Votre demande est transmise aux animateurs. Vous recevrez leur réponse par e-mail."),
            "success",
        )
        return _membership_done(community, can(current_viewer(), "read", community))
    return _membership_refused(community, form)


# -- members -----------------------------------------------------------------------------------


@blueprint.get("/c/<slug>/members")
def members(slug: str):
    community = _visible_community(slug)
    if not can(current_viewer(), "list_members", community):
        if current_viewer() is None:
            return login_manager.unauthorized()
        abort(403)
    return _render_members(community)


def _render_members(community: Community, status: int = 200):
    viewer = current_viewer()
    page = page_number()
    may_transfer = can(viewer, "transfer_ownership", community)
    manages = can(viewer, "manage_members", community)
    roles = [
        (role, label) for role, label in labels.ROLES.items() if role != Role.OWNER or may_transfer
    ]
    filter_form, active = None, {}
    if manages:  # last visits and filters are facilitators' tools
        filter_form = MemberFilterForm(request.args)
        filter_form.organisation.choices = [
            ("", _("Toutes")),
            *(
                (str(organisation.id), organisation.name)
                for organisation in queries.member_organisations(community)
            ),
        ]
        if not may_transfer:  # owners are listed first anyway; keep the role menus alike
            filter_form.role.choices = [
                choice for choice in filter_form.role.choices if choice.value != Role.OWNER
            ]
        filters = filter_form.filters()
        active = filters.active()
        memberships, total = queries.filtered_members(community, filters, page, MEMBERS_PAGE_SIZE)
    else:
        memberships = queries.members(community, page, MEMBERS_PAGE_SIZE)
        total = community.member_count
    return render_template(
        "community/members.html",
        community=community,
        memberships=memberships,
        total=total,
        filter_form=filter_form,
        filtered=bool(active),
        mix=queries.organisation_mix([community.id]).get(community.id, {}),
        manages=manages,
        may_transfer=may_transfer,
        role_choices=roles,
        pagination=_pagination(
            ".members", page, total, MEMBERS_PAGE_SIZE, slug=community.slug, **active
        ),
    ), status


@blueprint.post("/c/<slug>/members/<int:user_id>/role")
@login_required
def change_role(slug: str, user_id: int):
    community = _community_for(slug, "manage_members")
    member = get_or_404(User, id=user_id)
    form = RoleForm()
    if form.validate_on_submit():
        with flash_operation_errors(form):
            operations.change_role(community, current_viewer(), member, form.role.data)
            db.session.commit()
            flash(
                _(
                    "%(name)s a désormais le rôle « %(role)s ».",
                    name=member.display_name,
                    role=labels.ROLES[form.role.data],
                ),
                "success",
            )
            return redirect(url_for(".members", slug=community.slug), 303)
    else:
        _flash_form_errors(form)
    return _render_members(community, status=400)


@blueprint.post("/c/<slug>/members/<int:user_id>/remove")
@login_required
def remove_member(slug: str, user_id: int):
    community = _community_for(slug, "manage_members")
    member = get_or_404(User, id=user_id)
    question = _(
        "Retirer %(person)s de la communauté « %(name)s » ?",
        person=member.display_name,
        name=community.name,
    )
    if (asked := confirmation_page(question, confirm_label=_("Retirer"))) is not None:
        return asked
    with flash_operation_errors():
        operations.remove_member(community, current_viewer(), member)
        db.session.commit()
        flash(
            _("%(name)s ne fait plus partie de la communauté.", name=member.display_name),
            "success",
        )
        return redirect(url_for(".members", slug=community.slug), 303)
    return _render_members(community, status=400)


# -- join requests -----------------------------------------------------------------------------


@blueprint.get("/c/<slug>/requests", endpoint="requests")
@login_required
def join_requests(slug: str):
    return _render_requests(_community_for(slug, "approve_requests"))


def _render_requests(community: Community, status: int = 200):
    page = page_number()
    return render_template(
        "community/requests.html",
        community=community,
        join_requests=queries.pending_requests(community, page, REQUESTS_PAGE_SIZE),
        pagination=_pagination(
            ".requests",
            page,
            queries.pending_request_count(community),
            REQUESTS_PAGE_SIZE,
            slug=community.slug,
        ),
    ), status


@blueprint.post("/c/<slug>/requests/<int:request_id>")
@login_required
def decide_request(slug: str, request_id: int):
    community = _community_for(slug, "approve_requests")
    join_request = queries.join_request_in(community, request_id)
    if join_request is None:
        abort(404)
    form = DecisionForm()
    if form.validate_on_submit():
        approve = form.decision.data == "approve"
        with flash_operation_errors(form):
            operations.decide_request(
                join_request, current_viewer(), approve, form.message.data or ""
            )
            db.session.commit()
            name = join_request.user.display_name
            if approve:
                flash(_("%(name)s est maintenant membre.", name=name), "success")
            else:
                flash(_("La demande de %(name)s est refusée.", name=name), "success")
            return redirect(url_for(".requests", slug=community.slug), 303)
    else:
        _flash_form_errors(form)
    return _render_requests(community, status=400)


# -- invitations -------------------------------------------------------------------------------


def _invite_limit() -> str:
    return current_app.config.get("RATELIMIT_INVITE", "30 per hour")


def _signed_in_user() -> str:
    return f"user:{getattr(current_user, 'id', '')}"


@blueprint.route("/c/<slug>/invite", methods=["GET", "POST"])
@login_required
@limiter.limit(_invite_limit, key_func=_signed_in_user, methods=["POST"])
def invite(slug: str):
    community = _community_for(slug, "invite")
    form = InviteForm()
    if form.validate_on_submit():
        with flash_operation_errors(form):
            invitation, _token = operations.invite(
                community, current_viewer(), form.email.data, form.role.data
            )
            db.session.commit()
            flash(_("Invitation envoyée à %(email)s.", email=invitation.email), "success")
            return redirect(url_for(".invite", slug=community.slug), 303)
    return render_template(
        "community/invite.html",
        community=community,
        form=form,
        invitations=queries.open_invitations(community),
    ), 400 if form.is_submitted() else 200


INVITATION_PROBLEMS = {
    # state: (HTTP status, title, explanation)
    "unknown": (
        404,
        _l("Invitation introuvable"),
        _l(
            "Ce lien d'invitation n'existe pas. Vérifiez qu'il a été copié en entier, "
            "ou demandez une nouvelle invitation."
        ),
    ),
    "used": (
        410,
        _l("Invitation déjà utilisée"),
        _l(
            "Ce lien d'invitation a déjà servi : il ne fonctionne qu'une fois. "
            "Demandez une nouvelle invitation si besoin."
        ),
    ),
    "other_address": (
        403,
        _l("Invitation destinée à une autre adresse"),
        _l(
            "Cette invitation a été envoyée à une autre adresse e-mail. Connectez-vous avec "
            "le compte de cette adresse, ou demandez une nouvelle invitation."
        ),
    ),
    "revoked": (
        410,
        _l("Invitation retirée"),
        _l(
            "Cette invitation a été retirée par les animateurs de la communauté. "
            "Contactez-les si vous pensez qu'il s'agit d'une erreur."
        ),
    ),
    "expired": (
        410,
        _l("Invitation expirée"),
        _l(
            "Ce lien d'invitation a expiré. Demandez une nouvelle invitation à la personne "
            "qui anime la communauté."
        ),
    ),
}


def _invitation_problem(state: str):
    status, title, message = INVITATION_PROBLEMS[state]
    return _no_store(
        render_template(
            "community/invitation_problem.html", status=status, title=title, message=message
        ),
        status,
    )


def _no_store(page, status: int = 200):
    """The invitation pages carry a secret token: keep them out of caches and history."""
    response = make_response(page, status) if isinstance(page, str) else page
    response.headers["Cache-Control"] = "no-store"
    return response


def _invitee_needs_an_account(invitation) -> bool:
    """No account holds the invited address: the link offers to create one (local accounts).

    Telling this to whoever holds the link reveals nothing: the link was mailed to that address.
    """
    return current_app.config["AUTH_LOCAL_ENABLED"] and (
        db.session.scalar(select(User.id).where(User.email == invitation.email)) is None
    )


@blueprint.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    invitation, state = operations.lookup_invitation(token)
    if state != "valid":
        return _invitation_problem(state)
    viewer = current_viewer()
    if viewer is None:
        return _invitation_for_visitor(token, invitation)
    if not operations.invitation_is_for(invitation, viewer):
        return _invitation_problem("other_address")
    role = roles_of(viewer).get(invitation.community.id)
    form = CharterForm()
    if request.method == "POST":
        needs_charter = role is None and invitation.community.charter
        if not needs_charter or form.accept_charter.data:
            return _accept(token, invitation, bool(form.accept_charter.data))
        form.accept_charter.errors = [operations.CHARTER_REQUIRED]
    return _no_store(
        render_template(
            "community/invitation.html",
            invitation=invitation,
            charter_form=form,
            already_member=role is not None,
            upgrade=role is not None
            and operations.ROLE_RANK[invitation.role] > operations.ROLE_RANK[role],
        ),
        400 if request.method == "POST" else 200,
    )


def _invitation_for_visitor(token: str, invitation):
    """Not signed in: create an account when the address has none, else sign in first."""
    if request.method == "POST":
        return login_manager.unauthorized()
    if _invitee_needs_an_account(invitation):
        return _no_store(redirect(url_for("auth.invited_account", token=token), 303))
    here = url_for(".accept_invitation", token=token)
    return _no_store(
        render_template(
            "community/invitation.html",
            invitation=invitation,
            login_url=url_for("auth.login", next=here),
        )
    )


def _accept(token: str, invitation, accept_charter: bool):
    community = invitation.community
    wanted = invitation.role
    try:
        membership = operations.accept_invitation(
            token, current_viewer(), accept_charter=accept_charter
        )
    except NotAllowed:
        db.session.rollback()
        return _invitation_problem("other_address")
    except OperationError:
        db.session.rollback()
        return _invitation_problem("used")
    db.session.commit()
    flash(_("Bienvenue dans « %(name)s » !", name=community.name), "success")
    if membership.role != wanted and membership.role == Role.MEMBER:
        flash(
            _(
                "Le rôle « %(role)s » demande le certificat d'animateur : vous êtes membre en "
                "attendant de l'obtenir dans l'espace de formation.",
                role=labels.ROLES[wanted],
            ),
            "warning",
        )
    return redirect(url_for(".show", slug=community.slug), 303)


# -- creating and configuring ------------------------------------------------------------------


@blueprint.route("/communities/new", methods=["GET", "POST"])
@login_required
def create():
    if not can(current_viewer(), "create_community"):
        abort(403)
    form = CommunityForm()
    if form.validate_on_submit():
        with flash_operation_errors(form):
            community = operations.create_community(
                current_viewer(),
                form.name.data,
                slug=form.slug.data or None,
                description=form.description.data or "",
                visibility=form.visibility.data,
                join_policy=form.join_policy.data,
                topics=operations.topics_by_slug(form.topics.data or []),
            )
            db.session.commit()
            flash(_("La communauté « %(name)s » est créée.", name=community.name), "success")
            return redirect(url_for(".show", slug=community.slug), 303)
    return render_template(
        "community/form.html", form=form, community=None
    ), 400 if form.is_submitted() else 200


@blueprint.route("/c/<slug>/settings", methods=["GET", "POST"])
@login_required
def settings(slug: str):
    community = _community_for(slug, "manage")
    form = CommunitySettingsForm(
        data={
            "name": community.name,
            "description": community.description,
            "visibility": community.visibility,
            "join_policy": community.join_policy,
            "topics": [topic.slug for topic in community.topics],
            "welcome_message": community.welcome_message,
            "charter": community.charter,
        }
    )
    if form.validate_on_submit():
        with flash_operation_errors(form):
            operations.update_settings(
                community,
                current_viewer(),
                form.name.data,
                form.description.data or "",
                form.visibility.data,
                form.join_policy.data,
                operations.topics_by_slug(form.topics.data or []),
                welcome_message=form.welcome_message.data or "",
                charter=form.charter.data or "",
            )
            db.session.commit()
            flash(_("Les paramètres sont enregistrés."), "success")
            return redirect(url_for(".show", slug=community.slug), 303)
    return _settings_page(community, form, _modules_form(community))


def _modules_form(community: Community) -> CommunityModulesForm:
    enabled = [key for key in sorted(MODULE_KEYS) if key not in community.disabled_modules]
    return CommunityModulesForm(prefix="modules", data={"modules": enabled})


def _settings_page(community, form, modules_form):
    status = 400 if form.is_submitted() or modules_form.is_submitted() else 200
    page = render_template(
        "community/form.html", form=form, community=community, modules_form=modules_form
    )
    return page, status


@blueprint.route("/c/<slug>/settings/modules", methods=["POST"])
@login_required
def settings_modules(slug: str):
    community = _community_for(slug, "manage")
    modules_form = CommunityModulesForm(prefix="modules")
    if modules_form.validate_on_submit():
        with flash_operation_errors(modules_form):
            operations.set_modules(community, current_viewer(), modules_form.modules.data or [])
            db.session.commit()
            flash(_("Les modules de la communauté sont enregistrés."), "success")
            return redirect(url_for(".settings", slug=community.slug), 303)
    form = CommunitySettingsForm(obj=community, formdata=None)
    form.topics.data = [topic.slug for topic in community.topics]
    return _settings_page(community, form, modules_form)
