"""Calendar subscriptions: a community's feed, a person's feed, and the page where the person
finds (and changes) their private feed address.

Policy (see also :mod:`maillage.communities.events.feeds`):

- ``/c/<slug>/events.ics`` of a public community is open to anyone;
- of a private or secret community it needs the reader's personal token (``?token=``) — or
  their session, when opened in the browser — and that person must be able to read the
  community: without it a private community's feed is a 403, a secret one's a 404;
- ``/u/<username>/events.ics?token=…`` answers only with that person's current token (404
  otherwise) and holds only events they may still read;
- every feed of a community whose events module is off is a 404.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from maillage.communities.community.models import Visibility
from maillage.communities.community.queries import community_by_slug
from maillage.communities.events import feeds
from maillage.communities.events.blueprint import blueprint
from maillage.communities.events.queries import (
    community_feed_events,
    my_upcoming,
    person_feed_events,
)
from maillage.communities.events.views import ics_response
from maillage.communities.modules import require_module
from maillage.communities.permissions import can
from maillage.platform.errors import NotAllowed
from maillage.platform.extensions import db
from maillage.platform.views_util import confirmation_page, current_viewer


@blueprint.route("/c/<slug>/events.ics")
def community_feed(slug: str):
    community = community_by_slug(slug)
    if community is None:
        abort(404)
    token = request.args.get("token")
    viewer = feeds.user_for_token(token) if token else current_viewer()
    if not can(viewer, "view", community):
        abort(404)
    require_module(community, "events")
    if not can(viewer, "read", community):
        if token:
            raise NotAllowed(_("Ce lien d'abonnement n'est pas (ou plus) valable."))
        raise NotAllowed(
            _(
                "Le calendrier de cette communauté est réservé à ses membres : abonnez-vous "
                "avec l'adresse personnelle indiquée sur sa page Événements."
            )
        )
    body = feeds.calendar(community_feed_events(community), community.name)
    response = ics_response(body, f"{community.slug}.ics")
    if community.visibility != Visibility.PUBLIC:
        response.headers["Cache-Control"] = "private, no-store"
    return response


@blueprint.route("/u/<username>/events.ics")
def person_feed(username: str):
    person = feeds.user_for_token(request.args.get("token"))
    if person is None or person.username != username:
        abort(404)
    body = feeds.calendar(
        person_feed_events(person), _("Agenda de %(name)s", name=person.display_name)
    )
    response = ics_response(body, f"agenda-{person.username}.ics")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blueprint.route("/agenda")
@login_required
def agenda():
    viewer = current_viewer()
    token = feeds.feed_token(viewer)
    feed_url = (
        f"{feeds.absolute(url_for('.person_feed', username=viewer.username))}?token={token}"
        if token
        else None
    )
    return render_template(
        "events/agenda.html",
        upcoming=my_upcoming(viewer),
        feed_url=feed_url,
        webcal_url=feeds.webcal(feed_url) if feed_url else None,
    )


@blueprint.route("/agenda/feed", methods=["POST"])
@login_required
def rotate_feed():
    had_one = feeds.feed_key(current_user) is not None
    feeds.rotate_feed_token(current_user)
    db.session.commit()
    if had_one:
        flash(_("Votre adresse d'abonnement a changé : l'ancienne ne fonctionne plus."), "success")
    else:
        flash(_("Votre agenda est disponible par abonnement."), "success")
    return redirect(url_for(".agenda") + "#abonnement")


@blueprint.route("/agenda/feed/disable", methods=["POST"])
@login_required
def disable_feed():
    question = _("Désactiver l'abonnement à votre agenda ?")
    details = _("Les agendas abonnés à l'adresse actuelle ne recevront plus vos événements.")
    if (asked := confirmation_page(question, details, _("Désactiver"))) is not None:
        return asked
    feeds.disable_feed(current_user)
    db.session.commit()
    flash(_("L'abonnement à votre agenda est désactivé."), "success")
    return redirect(url_for(".agenda") + "#abonnement")
