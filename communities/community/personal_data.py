"""Memberships, join requests and invitations in the personal data registry.

Deletion removes them all: memberships through ``remove_membership`` (the member counts stay
right; the orchestrator has already refused a deletion that would leave a community without
an owner), the person's join requests, and the invitations they received.  Invitations they sent
stay (the community's history, signed by the anonymised account); their export leaves out the
invited people's e-mail addresses, which are not the person's data.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from maillage.communities.community.models import Community, Invitation, JoinRequest, Membership
from maillage.communities.community.operations import remove_membership
from maillage.platform.extensions import db
from maillage.platform.personal_data.registry import holds_personal_data
from maillage.platform.personal_data.rows import delete_rows, export_rows


def _community_columns():
    return (Community.slug.label("community"), Community.ap_id.label("community_url"))


def export_memberships(user) -> list[dict]:
    return export_rows(
        select(
            Membership.id,
            *_community_columns(),
            Membership.role,
            Membership.created_at,
            Membership.charter_accepted_at,
            Membership.via_directory,
        )
        .join(Community, Community.id == Membership.community_id)
        .where(Membership.user_id == user.id),
        Membership.id,
    )


def erase_memberships(user, _erasure) -> None:
    communities = db.session.scalars(
        select(Community).join(Membership).where(Membership.user_id == user.id)
    ).all()
    for community in communities:
        remove_membership(community, user)


def export_join_requests(user) -> list[dict]:
    return export_rows(
        select(
            JoinRequest.id,
            *_community_columns(),
            JoinRequest.message,
            JoinRequest.status,
            JoinRequest.decision_message,
            JoinRequest.created_at,
            JoinRequest.decided_at,
            JoinRequest.charter_accepted_at,
        )
        .join(Community, Community.id == JoinRequest.community_id)
        .where(JoinRequest.user_id == user.id),
        JoinRequest.id,
    )


def erase_join_requests(user, _erasure) -> None:
    delete_rows(JoinRequest, JoinRequest.user_id == user.id)


def _received(user):
    """Invitations the person accepted, and those sent to their address once they proved they
    receive mail there: an unverified address is anyone's claim, and must reveal nobody's
    invitation (nor let its erasure delete it)."""
    received = Invitation.used_by_id == user.id
    if user.email and user.email_verified_at is not None:
        return or_(received, Invitation.email == user.email)
    return received


def export_invitations(user) -> list[dict]:
    columns = (
        Invitation.id,
        *_community_columns(),
        Invitation.role,
        Invitation.created_at,
        Invitation.expires_at,
        Invitation.used_at,
        Invitation.revoked_at,
    )
    base = select(*columns).join(Community, Community.id == Invitation.community_id)
    received = export_rows(base.where(_received(user)), Invitation.id)
    sent = export_rows(base.where(Invitation.invited_by_id == user.id), Invitation.id)
    return [{"direction": "received", **row} for row in received] + [
        {"direction": "sent", **row} for row in sent
    ]


def erase_invitations(user, _erasure) -> None:
    delete_rows(Invitation, _received(user))


holds_personal_data(
    Membership, section="memberships", export=export_memberships, erase=erase_memberships
)
holds_personal_data(
    JoinRequest,
    section="join_requests",
    export=export_join_requests,
    erase=erase_join_requests,
    other_people_columns=("decided_by_id",),
)
holds_personal_data(
    Invitation, section="invitations", export=export_invitations, erase=erase_invitations
)
