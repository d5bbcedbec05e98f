"""Every write on communities, memberships, join requests and invitations."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import unicodedata

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from maillage.communities import signals
from maillage.communities.community.models import (
    Community,
    Invitation,
    JoinPolicy,
    JoinRequest,
    Membership,
    RequestStatus,
    Role,
    Topic,
    Visibility,
)
from maillage.communities.modules import MODULE_KEYS
from maillage.communities.permissions import can, forget_roles
from maillage.communities.users.models import User
from maillage.federation.ids import local_ap_id
from maillage.platform import mail
from maillage.platform.audit.operations import record
from maillage.platform.db import utcnow
from maillage.platform.errors import Conflict, NotAllowed, OperationError
from maillage.platform.extensions import db

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
SLUG_MAX = 64
SECRET_SUFFIX_LENGTH = 9  # "-" and 8 hexadecimal digits

# Higher rank, more rights: an invitation may raise a member's role, never lower it.
ROLE_RANK = {
    Role.GUEST: 0,
    Role.MEMBER: 1,
    Role.MODERATOR: 2,
    Role.FACILITATOR: 3,
    Role.OWNER: 4,
}


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:64].strip("-")


def _require(actor, action: str, obj) -> None:
    if not can(actor, action, obj):
        raise NotAllowed(_l("Vous n'avez pas le droit de faire cela."))


def _validate_settings(name: str, description: str, visibility: str, join_policy: str) -> None:
    if not name.strip() or len(name.strip()) > 120:
        raise OperationError(
            _l("Le nom de la communauté est obligatoire (120 caractères au plus).")
        )
    if len(description) > 5000:
        raise OperationError(_l("La description fait 5 000 caractères au plus."))
    if visibility not in set(Visibility):
        raise OperationError(_l("Visibilité inconnue."))
    if join_policy not in set(JoinPolicy):
        raise OperationError(_l("Mode d'adhésion inconnu."))


def create_topic(name: str, slug: str | None = None, actor: User | None = None) -> Topic:
    """Add a topic communities can be filed under (platform administration, demo data)."""
    name = " ".join(name.split())
    if not name or len(name) > 120:
        raise OperationError(_l("Le nom du thème est obligatoire (120 caractères au plus)."))
    slug = (slug or slugify(name)).strip().lower()
    if not SLUG_RE.match(slug):
        raise OperationError(
            _l("L'adresse doit contenir des lettres minuscules, chiffres ou tirets.")
        )
    if db.session.scalar(select(Topic.id).where(Topic.slug == slug)):
        raise Conflict(_l("Le thème « %(slug)s » existe déjà."), slug=slug)
    topic = Topic(slug=slug, name=name)
    db.session.add(topic)
    db.session.flush()
    record(actor, "topic.create", topic, slug=slug)
    return topic


def topics_by_slug(slugs: list[str]) -> list[Topic]:
    return list(db.session.scalars(select(Topic).where(Topic.slug.in_(slugs)))) if slugs else []


def create_community(
    owner: User,
    name: str,
    slug: str | None = None,
    description: str = "",
    visibility: str = Visibility.PUBLIC,
    join_policy: str = JoinPolicy.OPEN,
    topics: list[Topic] | None = None,
) -> Community:
    """Create a community owned by ``owner``; the caller commits."""
    _require(owner, "create_community", None)
    _validate_settings(name, description, visibility, join_policy)
    slug = (slug or slugify(name)).strip().lower()
    if not SLUG_RE.match(slug):
        raise OperationError(
            _l("L'adresse doit contenir des lettres minuscules, chiffres ou tirets.")
        )
    if visibility == Visibility.SECRET:
        slug = _unguessable(slug)
    if db.session.scalar(select(Community.id).where(Community.slug == slug)):
        raise address_in_use(slug)
    community = Community(
        slug=slug,
        name=name.strip(),
        description=description,
        visibility=visibility,
        join_policy=join_policy,
        organisation=owner.organisation,
        topics=topics or [],
        ap_id=local_ap_id("community", slug),
    )
    try:
        # begin_nested() flushes what is pending first: add the row inside the savepoint.
        with db.session.begin_nested():
            db.session.add(community)
            db.session.flush()
    except IntegrityError as exc:  # the same address was taken at the same moment
        raise address_in_use(slug) from exc
    add_membership(community, owner, Role.OWNER)
    record(owner, "community.create", community, slug=slug)
    signals.community_created.send(community, actor=owner)
    return community


def address_in_use(slug: str) -> Conflict:
    """The refusal of a taken address, whoever took it: a community the person may not see
    (secret), or one deleted that they could not see either (its id is retired, see
    ``federation.actors.tombstones``) — the words say no more than « taken »."""
    return Conflict(_l("Une communauté utilise déjà l'adresse « %(slug)s »."), slug=slug)


def _unguessable(slug: str) -> str:
    """A secret community's address: the chosen one plus a random suffix, so that nobody can
    learn a secret community exists by asking for its address (« déjà utilisée »)."""
    base = slug[: SLUG_MAX - SECRET_SUFFIX_LENGTH].rstrip("-")
    return f"{base}-{secrets.token_hex(4)}"


TEXT_SETTING_MAX = 20000


def update_settings(
    community: Community,
    actor: User,
    name: str,
    description: str,
    visibility: str,
    join_policy: str,
    topics: list[Topic],
    welcome_message: str | None = None,
    charter: str | None = None,
) -> Community:
    """Change the settings; ``welcome_message``/``charter`` None leave them as they are."""
    _require(actor, "manage", community)
    _validate_settings(name, description, visibility, join_policy)
    values = {
        "name": name.strip(),
        "description": description,
        "visibility": visibility,
        "join_policy": join_policy,
    }
    for key, value in (("welcome_message", welcome_message), ("charter", charter)):
        if value is not None:
            if len(value) > TEXT_SETTING_MAX:
                raise OperationError(
                    _l("Ce texte fait %(n)d caractères au plus."), n=TEXT_SETTING_MAX
                )
            values[key] = value.strip()
    changes = {key: value for key, value in values.items() if getattr(community, key) != value}
    for key, value in changes.items():
        setattr(community, key, value)
    community.topics = topics
    record(actor, "community.update", community, community=community, changed=sorted(changes))
    signals.community_updated.send(community, actor=actor, changed=set(changes))
    return community


def set_modules(community: Community, actor: User, enabled: list[str]) -> Community:
    """Switch modules on or off; what is switched off keeps its content (switching the module
    back on shows it again)."""
    _require(actor, "manage", community)
    unknown = set(enabled) - MODULE_KEYS
    if unknown:
        raise OperationError(_l("Module inconnu."))
    disabled = sorted(MODULE_KEYS - set(enabled))
    if disabled != sorted(community.disabled_modules or []):
        community.disabled_modules = disabled
        record(actor, "community.modules", community, community=community, disabled=disabled)
        signals.community_updated.send(community, actor=actor, changed={"disabled_modules"})
    return community


# -- memberships -------------------------------------------------------------------------------


def add_membership(
    community: Community, user: User, role: str, charter_accepted_at: dt.datetime | None = None
) -> Membership:
    """Add ``user`` with ``role``, keeping the member count; no permission check: joining,
    invitations and the directory sync call it once their own rules said yes."""
    membership = Membership(
        community=community, user=user, role=role, charter_accepted_at=charter_accepted_at
    )
    try:
        # begin_nested() flushes what is pending first: add the row inside the savepoint.
        with db.session.begin_nested():
            db.session.add(membership)
            db.session.flush()
    except IntegrityError as exc:
        raise Conflict(_l("%(name)s est déjà membre."), name=user.display_name) from exc
    db.session.execute(
        update(Community)
        .where(Community.id == community.id)
        .values(member_count=Community.member_count + 1)
    )
    db.session.refresh(community, ["member_count"])
    forget_roles(user)
    signals.member_joined.send(membership, actor=user)
    return membership


CHARTER_REQUIRED = _l("Pour rejoindre cette communauté, acceptez sa charte.")


def _charter_acceptance(community: Community, accepted: bool | None) -> dt.datetime | None:
    """When the charter is accepted now (None without charter); refuses a refusal.

    ``accepted`` None means the caller offers no charter checkbox (older callers): nothing is
    refused and no acceptance is recorded."""
    if not community.charter or accepted is None:
        return None
    if not accepted:
        raise OperationError(CHARTER_REQUIRED)
    return utcnow()


def join(community: Community, user: User, accept_charter: bool = False) -> Membership:
    """Join an open community (ticking the charter when it has one)."""
    if not can(user, "join", community):
        raise NotAllowed(_l("Cette communauté n'est pas ouverte à l'adhésion libre."))
    accepted_at = _charter_acceptance(community, accept_charter)
    membership = add_membership(community, user, Role.MEMBER, accepted_at)
    record(user, "community.join", community, community=community)
    return membership


def leave(community: Community, user: User) -> None:
    if not can(user, "leave", community):
        raise NotAllowed(
            _l(
                "Vous ne pouvez pas quitter cette communauté : transmettez d'abord "
                "le rôle de propriétaire."
            )
        )
    remove_membership(community, user)
    record(user, "community.leave", community)


def remove_membership(community: Community, user: User) -> None:
    """Remove ``user``'s membership, keeping the member count; no permission check (callers
    decide, and keep the last owner)."""
    removed = db.session.execute(
        delete(Membership).where(
            Membership.community_id == community.id, Membership.user_id == user.id
        )
    ).rowcount
    if removed:
        db.session.execute(
            update(Community)
            .where(Community.id == community.id)
            .values(member_count=Community.member_count - removed)
        )
        db.session.refresh(community, ["member_count"])
    forget_roles(user)
    signals.member_left.send(community, user=user)


def membership_of(community: Community, user: User) -> Membership | None:
    return db.session.scalar(
        select(Membership).where(
            Membership.community_id == community.id, Membership.user_id == user.id
        )
    )


def change_role(community: Community, actor: User, member: User, role: str) -> Membership:
    _require(actor, "manage_members", community)
    if role not in set(Role):
        raise OperationError(_l("Rôle inconnu."))
    membership = membership_of(community, member)
    if membership is None:
        raise OperationError(_l("Cette personne n'est pas membre."))
    demoting_owner = membership.role == Role.OWNER and role != Role.OWNER
    if demoting_owner and owner_count(community, lock=True) <= 1:
        raise Conflict(_l("La communauté doit garder au moins un propriétaire."))
    if Role.OWNER in (role, membership.role) and not can(actor, "transfer_ownership", community):
        raise NotAllowed(_l("Seul un propriétaire peut nommer ou retirer un propriétaire."))
    if role in (Role.FACILITATOR, Role.OWNER) and role != membership.role:
        _require_certificate(member)
    previous = membership.role
    if demoting_owner:
        _demote_keeping_an_owner(community, membership, role)
    else:
        membership.role = role
    forget_roles(member)
    record(
        actor,
        "community.role_change",
        community,
        community=community,
        user=member.id,
        previous=previous,
        role=role,
    )
    signals.member_role_changed.send(membership, actor=actor, previous=previous)
    return membership


CERTIFIED_ROLES = frozenset({Role.FACILITATOR, Role.OWNER})


def certificate_missing(member: User) -> bool:
    """With ``TRAINING_REQUIRED_FOR_FACILITATOR``, whether ``member`` lacks the facilitator
    certificate that facilitating or owning a community needs (False when not required)."""
    if not current_app.config.get("TRAINING_REQUIRED_FOR_FACILITATOR"):
        return False
    try:
        from maillage.communities.training.queries import has_facilitator_certificate
    except ImportError:  # the training space is not installed: nobody is certified
        return True
    return not has_facilitator_certificate(member)


def grantable_role(member: User, role: str) -> str:
    """``role``, or ``member`` when it is facilitator/owner and ``member`` lacks the required
    certificate: what invitations (and the directory sync) give without refusing the person."""
    return Role.MEMBER if role in CERTIFIED_ROLES and certificate_missing(member) else role


def _require_certificate(member: User) -> None:
    """With ``TRAINING_REQUIRED_FOR_FACILITATOR``, only certified people facilitate or own."""
    if certificate_missing(member):
        raise OperationError(
            _l(
                "%(name)s doit d'abord obtenir le certificat d'animateur (espace de formation).",
                name=member.display_name,
            )
        )


class _NoOwnerLeftError(Exception):
    """Rolls back the savepoint of a demotion that would leave the community without owner."""


def _demote_keeping_an_owner(community: Community, membership: Membership, role: str) -> None:
    """Write a demotion, then count owners again: two owners demoting each other at the same
    moment each saw the other still owner.  The demotion is undone if nobody owns it any more."""
    try:
        # begin_nested() flushes what is pending first: change the role inside the savepoint.
        with db.session.begin_nested():
            membership.role = role
            db.session.flush()
            if owner_count(community) < 1:
                raise _NoOwnerLeftError
    except _NoOwnerLeftError:
        db.session.refresh(membership)
        raise Conflict(_l("La communauté doit garder au moins un propriétaire.")) from None


def owner_count(community: Community, lock: bool = False) -> int:
    """How many owners ``community`` has; ``lock`` holds their rows until the transaction ends,
    so concurrent demotions (PostgreSQL) wait for each other instead of both passing."""
    owners = select(Membership.id).where(
        Membership.community_id == community.id, Membership.role == Role.OWNER
    )
    if lock:
        return len(db.session.scalars(owners.with_for_update()).all())
    return db.session.scalar(select(db.func.count()).select_from(owners.subquery()))


def remove_member(community: Community, actor: User, member: User) -> None:
    _require(actor, "manage_members", community)
    membership = membership_of(community, member)
    if membership is None:
        raise OperationError(_l("Cette personne n'est pas membre."))
    if membership.role == Role.OWNER:
        raise Conflict(_l("Un propriétaire ne peut pas être retiré ; changez d'abord son rôle."))
    remove_membership(community, member)
    record(actor, "community.remove_member", community, community=community, user=member.id)


# -- join requests -----------------------------------------------------------------------------


def request_to_join(
    community: Community, user: User, message: str = "", accept_charter: bool | None = False
) -> JoinRequest:
    if not can(user, "request_join", community):
        raise NotAllowed(_l("Cette communauté n'accepte pas de demande d'adhésion."))
    if len(message) > 2000:
        raise OperationError(_l("Le message fait 2 000 caractères au plus."))
    accepted_at = _charter_acceptance(community, accept_charter)
    if pending_request(community, user) is not None:
        raise Conflict(_l("Votre demande est déjà en attente."))
    join_request = JoinRequest(
        community=community, user=user, message=message.strip(), charter_accepted_at=accepted_at
    )
    try:
        # begin_nested() flushes what is pending first: add the request inside the savepoint.
        with db.session.begin_nested():
            db.session.add(join_request)
            db.session.flush()
    except IntegrityError as exc:  # a second submission raced past the check above
        raise Conflict(_l("Votre demande est déjà en attente.")) from exc
    record(user, "community.join_request", community)
    signals.join_requested.send(join_request)
    _notify_managers(join_request)
    return join_request


def _notify_managers(join_request: JoinRequest) -> None:
    """Tell the people who decide (owners, facilitators): bell, and e-mail at their rhythm."""
    from maillage.communities.community.queries import request_deciders

    community, user = join_request.community, join_request.user
    signals.notification_requested.send(
        join_request,
        community=community,
        actor=user,
        reason="join_request",
        url=f"/c/{community.slug}/requests",
        title=_l(
            "%(person)s demande à rejoindre « %(name)s »",
            person=user.display_name,
            name=community.name,
        ),
        recipients=request_deciders(community),
    )


def _notify_decision(join_request: JoinRequest, actor: User) -> None:
    """The requester's notice of the decision, in the bell only (the e-mail is sent apart).

    Its object is the community and it has no community scope: a refused person may not read
    a private community, yet may see that it exists and hear the answer.
    """
    community = join_request.community
    approved = join_request.status == RequestStatus.APPROVED
    signals.notification_requested.send(
        community,
        community=None,
        actor=actor,
        reason="join_request_decided",
        url=f"/c/{community.slug}",
        title=(
            _l("Votre demande pour « %(name)s » est acceptée", name=community.name)
            if approved
            else _l("Votre demande pour « %(name)s » n'a pas été retenue", name=community.name)
        ),
        recipients=[join_request.user],
        email=False,
    )


def pending_request(community: Community, user: User) -> JoinRequest | None:
    return db.session.scalar(
        select(JoinRequest).where(
            JoinRequest.community_id == community.id,
            JoinRequest.user_id == user.id,
            JoinRequest.status == RequestStatus.PENDING,
        )
    )


def decide_request(
    join_request: JoinRequest, actor: User, approve: bool, message: str = ""
) -> None:
    community = join_request.community
    _require(actor, "approve_requests", community)
    if join_request.status != RequestStatus.PENDING:
        raise Conflict(_l("Cette demande a déjà été traitée."))
    join_request.status = RequestStatus.APPROVED if approve else RequestStatus.REFUSED
    join_request.decided_by_id, join_request.decided_at = actor.id, utcnow()
    join_request.decision_message = message.strip()[:2000]
    if approve and membership_of(community, join_request.user) is None:
        add_membership(community, join_request.user, Role.MEMBER, join_request.charter_accepted_at)
    record(
        actor,
        "community.join_request_decided",
        community,
        community=community,
        user=join_request.user_id,
        approved=approve,
        message=bool(join_request.decision_message),
    )
    _mail_decision(join_request)
    _notify_decision(join_request, actor)


def _mail_decision(join_request: JoinRequest) -> None:
    user, community = join_request.user, join_request.community
    if not user.email:
        return
    url = f"{current_app.config['BASE_URL']}/c/{community.slug}"
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        if join_request.status == RequestStatus.APPROVED:
            subject = _("Bienvenue dans « %(name)s »", name=community.name)
            text = _("Votre demande a été acceptée. Rendez-vous sur %(url)s", url=url)
        else:
            subject = _("Votre demande pour « %(name)s »", name=community.name)
            text = _("Votre demande d'adhésion n'a pas été retenue.")
        if join_request.decision_message:
            text += "\n\n" + join_request.decision_message
    mail.send(user.email, subject, text)


# -- invitations -------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(
    community: Community,
    actor: User,
    email: str,
    role: str = Role.MEMBER,
    locale: str | None = None,
) -> tuple[Invitation, str]:
    """Invite an address; returns the invitation and its secret token (sent by e-mail)."""
    from maillage.communities.users.operations import normalise_email

    _require(actor, "invite", community)
    if role not in {Role.MEMBER, Role.GUEST, Role.MODERATOR, Role.FACILITATOR}:
        raise OperationError(_l("Rôle d'invitation invalide."))
    email = normalise_email(email)
    if _is_member_by_email(community, email):
        raise Conflict(_l("%(email)s est déjà membre de la communauté."), email=email)
    token = secrets.token_urlsafe(32)
    days = current_app.config["INVITATION_VALID_DAYS"]
    invitation = Invitation(
        community=community,
        email=email,
        role=role,
        token_hash=_token_hash(token),
        invited_by=actor,
        expires_at=utcnow() + dt.timedelta(days=days),
    )
    db.session.add(invitation)
    db.session.flush()
    record(
        actor,
        "community.invite",
        community,
        community=community,
        invitation=invitation.id,
        role=role,
    )
    url = f"{current_app.config['BASE_URL']}/invitations/{token}"
    with force_locale(locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = _("Invitation à rejoindre « %(name)s »", name=community.name)
        text = _(
            "%(who)s vous invite à rejoindre la communauté « %(name)s » sur %(site)s.\n\n"
            "Ce lien est valable %(days)d jours et ne sert qu'une fois :\n%(url)s",
            who=actor.display_name,
            name=community.name,
            site=current_app.config["INSTANCE_NAME"],
            days=days,
            url=url,
        )
    mail.send(email, subject, text)
    return invitation, token


def _is_member_by_email(community: Community, email: str) -> bool:
    return (
        db.session.scalar(
            select(Membership.id)
            .join(User, User.id == Membership.user_id)
            .where(Membership.community_id == community.id, User.email == email)
        )
        is not None
    )


def lookup_invitation(token: str) -> tuple[Invitation | None, str]:
    """The invitation a token names and its state: ``valid``, ``used``, ``expired`` or
    ``unknown`` (then the invitation is None), so a page can say why a link no longer works."""
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == _token_hash(token))
    )
    if invitation is None:
        return None, "unknown"
    if invitation.used_at is not None:
        return invitation, "used"
    if invitation.revoked_at is not None:
        return invitation, "revoked"
    if invitation.expires_at < utcnow():
        return invitation, "expired"
    return invitation, "valid"


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation a token opens, if it is still usable."""
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == _token_hash(token))
    )
    if invitation is None or invitation.state() != "pending":
        return None
    return invitation


def invitation_is_for(invitation: Invitation, user: User) -> bool:
    """Was ``invitation`` sent to ``user``'s address?  An invitation is not a bearer token."""
    from maillage.communities.users.operations import normalise_email

    if not user.email:
        return False
    try:
        email = normalise_email(user.email)
    except OperationError:
        return False
    return email.casefold() == invitation.email.casefold()


INVITATION_GONE = _l("Cette invitation n'est plus valable (expirée, retirée ou déjà utilisée).")


def accept_invitation(token: str, user: User, accept_charter: bool | None = None) -> Membership:
    """Accept an invitation.  ``accept_charter``: the person's answer to the charter checkbox;
    None for callers that show no charter (then no acceptance is recorded)."""
    invitation = invitation_for_token(token)
    if invitation is None:
        raise OperationError(INVITATION_GONE)
    if not can(user, "accept_invitation", invitation.community):
        raise NotAllowed(_l("Vous êtes exclu·e de cette communauté pour le moment."))
    if not invitation_is_for(invitation, user):
        raise NotAllowed(_l("Cette invitation a été envoyée à une autre adresse e-mail."))
    community = invitation.community
    membership = membership_of(community, user)
    accepted_at = _charter_acceptance(community, accept_charter) if membership is None else None
    # Mark used in the same statement that checks it, so two clicks cannot both succeed.
    claimed = db.session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(used_at=utcnow(), used_by_id=user.id)
    ).rowcount
    if not claimed:
        raise OperationError(INVITATION_GONE)
    role = grantable_role(user, invitation.role)
    if membership is None:
        membership = add_membership(community, user, role, accepted_at)
    elif ROLE_RANK.get(role, 0) > ROLE_RANK.get(membership.role, 0):
        previous, membership.role = membership.role, role
        forget_roles(user)
        record(
            user,
            "community.role_change",
            community,
            user=user.id,
            previous=previous,
            role=role,
            invitation=invitation.id,
        )
    if role != invitation.role:  # the certificate the instance requires is missing
        record(
            None,
            "community.role_capped",
            community,
            community=community,
            user=user.id,
            wanted=invitation.role,
        )
    record(user, "community.invitation_accepted", community, invitation=invitation.id)
    return membership


def revoke_invitation(invitation: Invitation, actor: User) -> Invitation:
    """Withdraw a pending invitation: its link stops working."""
    community = invitation.community
    _require(actor, "invite", community)
    if invitation.state() != "pending":
        raise Conflict(_l("Seule une invitation en attente peut être retirée."))
    revoked = db.session.execute(
        update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.used_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    ).rowcount
    if not revoked:  # accepted at the same moment
        raise Conflict(_l("Seule une invitation en attente peut être retirée."))
    db.session.refresh(invitation)
    record(
        actor,
        "community.invitation_revoked",
        community,
        community=community,
        invitation=invitation.id,
    )
    return invitation
