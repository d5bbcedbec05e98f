"""*Mon compte* › Sessions: the open sessions listed (device in plain words, network, opened,
last seen, « cette session »), one ended from another browser, all the others ended; an
administrator ends all of a person's sessions; every way of ending is audited.  Back-channel
logout and the personal-data registry use the same records."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from maillage.auth.sessions.operations import end_provider_sessions, open_session
from maillage.platform.audit.models import AuditEntry
from maillage.platform.extensions import db
from tests.auth.sessions.conftest import SAFARI_IPHONE, post_form

PAGE = "/account/sessions"


def _signed_in(browser) -> bool:
    return browser.get("/account").status_code == 200


def _audit(user) -> list[tuple[str, dict]]:
    db.session.expire_all()
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.object_type == "user", AuditEntry.object_id == user.id)
        .order_by(AuditEntry.id)
    )
    return [(entry.action, entry.data) for entry in entries]


@pytest.fixture
def dominique(create_user):
    return create_user("dominique")


@pytest.fixture
def two_browsers(browser_client, dominique):
    """Dominique on a Windows computer at the office and on an iPhone at home."""
    office = browser_client("dominique", address="192.0.2.17")
    phone = browser_client("dominique", user_agent=SAFARI_IPHONE, address="2001:db8:5:6::1")
    return office, phone


def test_the_account_page_leads_to_the_sessions(two_browsers):
    office, _phone = two_browsers
    assert f'href="{PAGE}"' in office.get("/account").get_data(as_text=True)


def test_open_sessions_are_listed_in_plain_words(two_browsers, dominique, records):
    office, _phone = two_browsers
    response = office.get(PAGE)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert html.count("<h1") == 1
    assert "Firefox sur Windows" in html
    assert "Safari sur iPhone" in html
    assert "192.0.2.0/24" in html
    assert "2001:db8:5::/48" in html
    assert "192.0.2.17" not in html  # never the address itself
    rows = re.findall(r"<tr>.*?</tr>", html, re.S)[1:]
    assert len(rows) == 2
    assert "cette session" in rows[1]  # the phone was used last: listed first
    assert "cette session" not in rows[0]
    assert html.count("<time") >= 4  # opened and last seen, for each


def test_a_session_ended_from_another_browser_is_over(two_browsers, dominique, records):
    office, phone = two_browsers
    office_id, phone_id = (record.id for record in records(dominique))
    action = f"{PAGE}/{phone_id}/end"

    asked = post_form(office, PAGE, action)
    assert asked.status_code == 200  # asks first
    assert 'name="confirmed" value="1"' in asked.get_data(as_text=True)
    assert _signed_in(phone)

    done = post_form(office, PAGE, action, {"confirmed": "1"})
    assert done.status_code == 303
    assert not _signed_in(phone)
    assert _signed_in(office)
    assert [record.id for record in records(dominique)] == [office_id]
    assert ("auth.session_ended", {"session": phone_id, "reason": "user"}) in _audit(dominique)


def test_someone_elses_session_cannot_be_ended(two_browsers, browser_client, create_user, records):
    camille = create_user("camille")
    camille_browser = browser_client("camille")
    office, _phone = two_browsers
    (camille_record,) = records(camille)
    action = f"{PAGE}/{camille_record.id}/end"
    assert post_form(office, PAGE, action, {"confirmed": "1"}).status_code == 404
    assert _signed_in(camille_browser)


def test_ending_this_session_is_signing_out(two_browsers, dominique, records):
    office, phone = two_browsers
    this_one = records(dominique)[0]
    done = post_form(office, PAGE, f"{PAGE}/{this_one.id}/end", {"confirmed": "1"})
    assert done.status_code == 303
    assert not _signed_in(office)
    assert _signed_in(phone)


def test_all_other_sessions_end_this_one_stays(browser_client, two_browsers, dominique, records):
    office, phone = two_browsers
    tablet = browser_client("dominique", remember=True)
    assert post_form(office, PAGE, f"{PAGE}/others/end").status_code == 200  # asks first
    assert _signed_in(phone)
    done = post_form(office, PAGE, f"{PAGE}/others/end", {"confirmed": "1"})
    assert done.status_code == 303
    assert not _signed_in(phone)
    assert not _signed_in(tablet)
    assert _signed_in(office)
    assert len(records(dominique)) == 1
    assert (
        "auth.sessions_ended",
        {"reason": "user", "count": 2, "kept_current": True},
    ) in _audit(dominique)


def test_an_administrator_ends_all_of_a_persons_sessions(
    app, two_browsers, dominique, create_user, records
):
    from tests.auth.sessions.conftest import sign_in_browser

    create_user("alix", is_admin=True)
    admin = sign_in_browser(app, "alix")
    office, phone = two_browsers
    page = f"/admin/people/{dominique.id}"
    assert post_form(admin, page, f"{page}/sessions/end", {"confirmed": "1"}).status_code == 302
    assert not _signed_in(office)
    assert not _signed_in(phone)
    assert records(dominique) == []
    assert _signed_in(admin)
    actions = [action for action, _data in _audit(dominique)]
    assert "auth.sessions_ended" in actions
    assert "people.sessions_ended" in actions


def test_suspension_ends_the_records(app, two_browsers, dominique, create_user, records):
    from maillage.platform.people.operations import suspend

    alix = create_user("alix", is_admin=True)
    suspend(alix, dominique, "Comportement abusif")
    db.session.commit()
    assert records(dominique) == []
    assert not any(_signed_in(browser) for browser in two_browsers)


def test_a_password_change_ends_the_other_sessions(two_browsers, dominique, records):
    office, phone = two_browsers
    data = {
        "password-current": "correct horse battery",
        "password-password": "a brand new passphrase",
        "password-confirm": "a brand new passphrase",
    }
    html = office.get("/account").get_data(as_text=True)
    token = re.search(r'name="password-csrf_token"[^>]*value="([^"]+)"', html).group(1)
    assert (
        office.post("/account/password", data={**data, "password-csrf_token": token}).status_code
        == 302
    )
    assert _signed_in(office)
    assert not _signed_in(phone)
    assert len(records(dominique)) == 1


def test_back_channel_logout_by_sid_or_by_subject(app, dominique, create_user, records):
    camille = create_user("camille")
    with app.test_request_context():
        open_session(dominique, provider="keycloak", provider_subject="sub-d", provider_sid="s1")
        open_session(dominique, provider="keycloak", provider_subject="sub-d", provider_sid="s2")
        open_session(dominique, provider="local")
        open_session(camille, provider="keycloak", provider_subject="sub-c", provider_sid="s1")
        db.session.commit()

    assert end_provider_sessions("keycloak", subject="sub-d", sid="s1") == 1
    db.session.commit()
    assert [record.provider_sid for record in records(dominique)] == ["s2", None]
    assert len(records(camille)) == 1  # same sid, another person: theirs stays

    version = dominique.session_version
    assert end_provider_sessions("keycloak", subject="sub-d") == 2  # every session of the person
    db.session.commit()
    assert records(dominique) == []
    assert dominique.session_version == version + 1
    assert len(records(camille)) == 1
    assert end_provider_sessions("other", subject="sub-c") == 0
    assert (
        "auth.sessions_ended",
        {"reason": "backchannel", "count": 2, "kept_current": False},
    ) in (_audit(dominique))


def test_sessions_are_exported_and_erased_with_the_account(app, two_browsers, dominique, records):
    from maillage.platform.personal_data.registry import HOLDERS, Erasure

    holder = next(h for h in HOLDERS.values() if h.section == "sessions")
    exported = holder.export(dominique)
    assert len(exported) == 2
    assert {"created_at", "last_seen_at", "user_agent", "ip_prefix"} <= set(exported[0])
    assert "token_hash" not in exported[0]
    holder.erase(dominique, Erasure.KEEP_CONTENT)
    db.session.commit()
    assert records(dominique) == []
