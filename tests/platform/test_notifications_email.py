"""Notification e-mails: immediate ones, daily and weekly digests (idempotent), the recipient's
language, one-click unsubscribe (RFC 8058) with signed links, the beat schedule, and the demo."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from maillage.communities.posts import operations as post_ops
from maillage.platform import mail
from maillage.platform.celery_app import BEAT_SCHEDULE
from maillage.platform.extensions import db
from maillage.platform.notifications.models import Notification, NotificationPreference
from maillage.platform.notifications.operations import notify
from maillage.platform.notifications.tasks import (
    daily_digest,
    purge_notifications,
    run_digests,
    weekly_digest,
)
from maillage.platform.notifications.tokens import make_token, read_token
from maillage.platform.outbox.models import OutboxItem

PARIS = ZoneInfo("Europe/Paris")
UNSUBSCRIBE_RE = re.compile(r"https://maillage\.test(/notifications/unsubscribe/\S+)")


@pytest.fixture
def people(create_user):
    return {
        "olga": create_user("olga", display_name="Olga Martin"),
        "marc": create_user("marc", display_name="Marc Durand"),
        "emma": create_user("emma", display_name="Emma Smith", locale="en"),
    }


@pytest.fixture
def achats(create_community, people):
    return create_community(
        "Achats publics",
        slug="achats",
        owner=people["olga"],
        members=[people["marc"], people["emma"]],
    )


def prefer(user, community, mode):
    db.session.add(
        NotificationPreference(
            user_id=user.id, community_id=community.id if community else None, mode=mode
        )
    )
    db.session.commit()


def mails_to(outbox_mail, user):
    return [message for message in outbox_mail() if message["To"] == user.email]


def notification_mails(outbox_mail):
    return [message for message in outbox_mail() if message["List-Unsubscribe"]]


# -- immediate ---------------------------------------------------------------------------------


def test_immediate_mode_sends_one_mail_with_one_click_unsubscribe(app, people, achats, outbox_mail):
    prefer(people["marc"], achats, "immediate")
    post = post_ops.create_post(achats, people["olga"], "Marché de nettoyage", "Texte")
    db.session.commit()

    (message,) = mails_to(outbox_mail, people["marc"])
    assert message["Subject"] == "[Achats publics] Marché de nettoyage"
    body = message.get_content()
    assert body.startswith("Bonjour Marc Durand,")
    assert "Nouveau contenu · « Achats publics » · par Olga Martin" in body
    assert f"https://maillage.test/post/{post.id}" in body
    link = UNSUBSCRIBE_RE.search(body).group(0)
    assert message["List-Unsubscribe"] == f"<{link}>"
    raw = next(Path(app.config["MAIL_FOLDER"]).glob("*.eml")).read_bytes()
    assert f"\nList-Unsubscribe: <{link}>\n".encode() in raw  # one line, not RFC 2047-encoded
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert read_token(link.rsplit("/", 1)[-1]).community_id == achats.id

    # Emma (daily by default) waits for her digest; the author is never told.
    assert mails_to(outbox_mail, people["emma"]) == []
    assert mails_to(outbox_mail, people["olga"]) == []
    rows = {r.recipient_id: r for r in db.session.scalars(select(Notification))}
    assert rows[people["marc"].id].emailed_at is not None
    assert rows[people["emma"].id].emailed_at is None


def test_each_mail_is_in_its_recipients_language(people, achats, outbox_mail):
    for person in (people["marc"], people["emma"]):
        prefer(person, achats, "immediate")
    post_ops.create_post(achats, people["olga"], "Sujet", "Texte")
    db.session.commit()
    (french,) = mails_to(outbox_mail, people["marc"])
    (english,) = mails_to(outbox_mail, people["emma"])
    assert french.get_content().startswith("Bonjour Marc Durand,")
    assert english.get_content().startswith("Hello Emma Smith,")


def test_off_and_mentions_by_mail(people, achats, outbox_mail):
    prefer(people["marc"], achats, "off")
    prefer(people["emma"], None, "immediate")  # her own default
    post = post_ops.create_post(achats, people["olga"], "Annonce", "Texte")
    db.session.commit()
    assert mails_to(outbox_mail, people["marc"]) == []
    assert len(mails_to(outbox_mail, people["emma"])) == 1

    notify(
        post,
        community=achats,
        actor=people["olga"],
        reason="mention",
        url=f"/post/{post.id}",
        title="Annonce",
        recipients=[people["marc"]],
    )
    db.session.commit()
    # Off: the mention is in his list, but no e-mail, now or in a digest.
    assert mails_to(outbox_mail, people["marc"]) == []
    assert run_digests("daily") == 0
    assert run_digests("weekly") == 0


def test_a_repeated_notice_in_one_transaction_is_mailed_once(people, achats, outbox_mail):
    prefer(people["marc"], achats, "immediate")
    post = post_ops.create_post(achats, people["olga"], "Une fois", "Texte")
    for _ in range(2):
        notify(
            post,
            community=achats,
            actor=people["olga"],
            reason="new_content",
            url=f"/post/{post.id}",
            title="Une fois",
        )
    db.session.commit()
    assert len(mails_to(outbox_mail, people["marc"])) == 1


# -- digests -----------------------------------------------------------------------------------


def make_notices(people, create_community, achats):
    other = create_community(
        "Numérique responsable", owner=people["olga"], members=[people["emma"]]
    )
    post_ops.create_post(achats, people["olga"], "Marché de nettoyage", "Texte")
    post_ops.create_post(achats, people["olga"], "Sourcing", "Texte")
    post_ops.create_post(other, people["olga"], "Sobriété", "Texte")
    db.session.commit()
    return other


def test_daily_digest_groups_by_community_and_runs_once(
    people, achats, create_community, outbox_mail
):
    make_notices(people, create_community, achats)
    morning = dt.datetime(2031, 3, 4, 7, 0, tzinfo=PARIS)
    assert daily_digest(now=morning.isoformat()) == 2  # Marc and Emma
    assert daily_digest(now=morning.isoformat()) == 0  # nothing left: no second mail
    assert run_digests("daily", morning + dt.timedelta(days=1)) == 0

    (french,) = mails_to(outbox_mail, people["marc"])
    assert french["Subject"] == "Votre résumé du jour — Maillage"
    body = french.get_content()
    assert "(au 4 mars 2031)" in body
    assert body.index("« Achats publics »") < body.index("Marché de nettoyage")
    assert "Sourcing" in body
    assert "Sobriété" not in body
    assert french["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert read_token(UNSUBSCRIBE_RE.search(body).group(1).rsplit("/", 1)[-1]).community_id is None

    (english,) = mails_to(outbox_mail, people["emma"])
    text = english.get_content()
    assert text.startswith("Hello Emma Smith,")
    assert "March 4, 2031" in text
    assert "« Achats publics »" in text
    assert "« Numérique responsable »" in text
    assert all(row.emailed_at for row in db.session.scalars(select(Notification)))


def test_digests_follow_each_persons_frequency_and_skip_read_or_future_notices(
    people, achats, create_community, outbox_mail
):
    prefer(people["emma"], None, "weekly")
    make_notices(people, create_community, achats)
    marc_first = db.session.scalars(
        select(Notification).where(Notification.recipient_id == people["marc"].id)
    ).first()
    marc_first.read_at = marc_first.created_at
    db.session.commit()

    before = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    assert run_digests("daily", before) == 0  # nothing existed yet at that time
    monday = dt.datetime(2031, 3, 3, 7, 0, tzinfo=PARIS)
    assert run_digests("daily", monday) == 1
    (daily,) = mails_to(outbox_mail, people["marc"])
    assert "Sourcing" in daily.get_content()
    assert "Marché de nettoyage" not in daily.get_content()  # already read in the app
    assert mails_to(outbox_mail, people["emma"]) == []

    assert weekly_digest(now=monday.isoformat()) == 1
    assert weekly_digest(now=monday.isoformat()) == 0
    (weekly,) = mails_to(outbox_mail, people["emma"])
    assert weekly["Subject"] == "Your weekly summary — Maillage"


def test_a_digest_lists_at_most_50_notices(people, achats, outbox_mail):
    class Thing:
        def __init__(self, id_):
            self.id = id_

    for number in range(53):
        notify(
            Thing(number + 1),
            community=achats,
            actor=people["olga"],
            reason="mention",
            url="/c/achats",
            title=f"Avis {number}",
            recipients=[people["marc"]],
        )
    db.session.commit()
    assert run_digests("daily") == 1
    (digest,) = mails_to(outbox_mail, people["marc"])
    assert "Et 3 autres notifications." in digest.get_content()
    assert "https://maillage.test/notifications\n" in digest.get_content()


def test_the_beat_runs_digests_at_seven_in_paris():
    daily = BEAT_SCHEDULE["maillage.notifications.daily_digest"]
    weekly = BEAT_SCHEDULE["maillage.notifications.weekly_digest"]
    assert daily["task"] == "maillage.notifications.daily_digest"

    def next_run(entry, last_run):
        start, delta, _now = entry["schedule"].remaining_delta(last_run)
        return (start + delta).astimezone(PARIS)

    winter = dt.datetime(2031, 1, 7, 6, 0, tzinfo=dt.UTC)  # a Tuesday, 07:00 in Paris
    assert next_run(daily, winter) == dt.datetime(2031, 1, 8, 7, 0, tzinfo=PARIS)
    summer = dt.datetime(2031, 7, 1, 5, 0, tzinfo=dt.UTC)  # 07:00 in Paris (UTC+2)
    assert next_run(daily, summer) == dt.datetime(2031, 7, 2, 7, 0, tzinfo=PARIS)
    monday = next_run(weekly, winter)
    assert (monday.weekday(), monday.hour, monday.minute) == (0, 7, 0)
    assert monday.date() == dt.date(2031, 1, 13)


def test_old_notices_are_purged_after_the_retention_period(people, achats):
    start = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
    for age_days, title in [(200, "Ancienne"), (10, "Récente")]:
        notify(
            achats,
            community=achats,
            actor=people["olga"],
            reason=f"test_{age_days}",
            url="/c/achats",
            title=title,
            recipients=[people["marc"]],
            now=start - dt.timedelta(days=age_days),
        )
    db.session.commit()
    assert purge_notifications(now=start.isoformat()) == 1
    assert [row.title for row in db.session.scalars(select(Notification))] == ["Récente"]
    assert "maillage.notifications.purge" in BEAT_SCHEDULE


# -- unsubscribe -------------------------------------------------------------------------------


def unsubscribe_path(user, community=None, now=None):
    return "/notifications/unsubscribe/" + make_token(
        user.id, community.id if community else None, now
    )


def modes(user):
    return {
        row.community_id: row.mode
        for row in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }


def test_unsubscribe_link_asks_then_unsubscribes_without_signing_in(client, people, achats):
    path = unsubscribe_path(people["marc"], achats)
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Achats publics" in html
    assert "Confirmer le désabonnement" in html
    assert modes(people["marc"]) == {}  # a GET (a link scanner) changes nothing

    done = client.post(path, data={"List-Unsubscribe": "One-Click"})  # as a mail program does
    assert done.status_code == 200
    assert "Désabonnement enregistré" in done.get_data(as_text=True)
    assert modes(people["marc"]) == {achats.id: "off"}


def test_unsubscribe_from_everything(client, people, achats):
    prefer(people["marc"], achats, "immediate")
    client.post(unsubscribe_path(people["marc"]), data={"List-Unsubscribe": "One-Click"})
    assert modes(people["marc"]) == {None: "off", achats.id: "off"}


def test_forged_or_foreign_tokens_are_refused(client, people, achats):
    genuine = make_token(people["marc"].id, achats.id)
    # Emma's payload with Marc's signature; a broken signature; another salt; nonsense.
    forged = (
        make_token(people["emma"].id, achats.id).split(".", 1)[0] + "." + genuine.split(".", 1)[1]
    )
    other_purpose = URLSafeTimedSerializer(
        "test-secret-key-with-enough-length-123456", salt="password-reset"
    ).dumps([people["marc"].id, achats.id])
    for token in (forged, genuine[:-2] + "xx", other_purpose, "n'importe-quoi"):
        response = client.post(f"/notifications/unsubscribe/{token}")
        assert response.status_code == 400
        assert "lien de désabonnement n'est pas valide" in response.get_data(as_text=True)
    assert modes(people["marc"]) == {}
    assert modes(people["emma"]) == {}


def test_expired_tokens_are_refused_with_a_way_out(client, people, achats):
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=181)
    response = client.get(unsubscribe_path(people["marc"], achats, now=old))
    assert response.status_code == 400
    assert "a expiré" in response.get_data(as_text=True)
    recent = dt.datetime.now(dt.UTC) - dt.timedelta(days=179)
    assert client.get(unsubscribe_path(people["marc"], achats, now=recent)).status_code == 200


def test_a_token_for_a_deleted_account_is_a_404(client, people, achats):
    response = client.get("/notifications/unsubscribe/" + make_token(999_999, None))
    assert response.status_code == 404


# -- mail headers ------------------------------------------------------------------------------


def test_extra_headers_never_replace_the_essential_ones(app, outbox_mail):
    mail.send(
        "agent@example.gouv.fr",
        "Sujet",
        "Texte",
        headers={"To": "pirate@example.com", "List-Id": "liste\r\nBcc: x@example.com"},
    )
    db.session.commit()
    (message,) = outbox_mail()
    assert message["To"] == "agent@example.gouv.fr"
    assert message["List-Id"] == "liste Bcc: x@example.com"
    assert message["Bcc"] is None


# -- the demo ----------------------------------------------------------------------------------


def test_the_demo_fills_the_bells_without_sending_notification_mails(app, outbox_mail):
    from maillage.communities.demo import load_demo

    load_demo()
    assert db.session.scalars(select(Notification)).first() is not None
    assert (
        db.session.scalars(select(Notification).where(Notification.emailed_at.is_not(None))).all()
        == []
    )
    kinds = db.session.scalars(select(OutboxItem.payload)).all()
    assert not [p for p in kinds if "List-Unsubscribe" in (p.get("headers") or {})]
    assert notification_mails(outbox_mail) == []
