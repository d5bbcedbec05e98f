"""Server-side session records: sign-in opens one, sign-out deletes it, and a copied cookie
(session or remember-me) opens nothing once its record is gone; absolute lifetime and idle
timeout; « last seen » written at most once a minute; no extra query on a signed-in page.

Regression: sessions lived only in signed cookies, so a cookie copied before « Se déconnecter »
still worked after it.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import update

from maillage.auth.sessions.clients import describe_device, ip_prefix
from maillage.auth.sessions.models import SessionRecord
from maillage.auth.sessions.operations import purge_expired
from maillage.auth.sessions.queries import hash_token
from maillage.platform.db import utcnow
from maillage.platform.extensions import db
from tests.auth.sessions.conftest import SAFARI_IPHONE, post_form

SIGNED_IN_PAGE = "/account"


def _signed_in(browser) -> bool:
    return browser.get(SIGNED_IN_PAGE).status_code == 200


def _age(record_id: int, **fields: dt.timedelta) -> None:
    """Move a record's timestamps back in time (no sleeping in tests)."""
    now = utcnow()
    db.session.execute(
        update(SessionRecord)
        .where(SessionRecord.id == record_id)
        .values({name: now - delta for name, delta in fields.items()})
    )
    db.session.commit()


def _copy(app, browser, *, session: str | None = None, remember: str | None = None):
    """Another client, on the same machine as ``browser``, carrying copied cookies."""
    other = app.test_client()
    other.environ_base.update(browser.environ_base)
    if session is not None:
        other.set_cookie("session", session)
    if remember is not None:
        other.set_cookie("remember_token", remember)
    return other


def _logout(browser):
    return post_form(browser, SIGNED_IN_PAGE, "/logout")


def test_sign_in_opens_a_record_named_by_a_token_stored_hashed(
    app, browser_client, create_user, records
):
    user = create_user("dominique")
    browser = browser_client("dominique", user_agent="X" * 400 + SAFARI_IPHONE, address="::1")
    (record,) = records(user)
    with browser.session_transaction() as session:
        user_id, version, token = session["_user_id"].split(":")
    assert (int(user_id), int(version)) == (user.id, user.session_version)
    assert record.token_hash == hash_token(token) != token
    assert len(record.user_agent) == 255  # truncated
    assert record.ip_prefix == "::/48"
    assert record.remember is False
    assert record.created_at == record.last_seen_at


def test_logout_kills_a_cookie_copied_before_it(app, browser_client, create_user, records):
    user = create_user("dominique")
    browser = browser_client("dominique")
    copied = browser.get_cookie("session").value
    assert _signed_in(_copy(app, browser, session=copied))  # works while the session is open

    assert _logout(browser).status_code == 302
    assert records(user) == []
    assert not _signed_in(browser)
    assert not _signed_in(_copy(app, browser, session=copied))


def test_logout_kills_a_copied_remember_me_cookie(app, browser_client, create_user, records):
    user = create_user("dominique")
    browser = browser_client("dominique", remember=True)
    assert records(user)[0].remember is True
    session_cookie = browser.get_cookie("session").value
    remember_cookie = browser.get_cookie("remember_token").value
    # The remember-me cookie alone signs in (a browser restarted).
    assert _signed_in(_copy(app, browser, remember=remember_cookie))
    _logout(browser)
    assert not _signed_in(_copy(app, browser, remember=remember_cookie))
    assert not _signed_in(_copy(app, browser, session=session_cookie, remember=remember_cookie))


def test_idle_session_ends(app, browser_client, create_user, records):
    user = create_user("dominique")
    browser = browser_client("dominique")
    (record,) = records(user)
    idle = app.config["SESSION_IDLE_TIMEOUT_MINUTES"]
    _age(record.id, last_seen_at=dt.timedelta(minutes=idle - 1))
    assert _signed_in(browser)
    _age(record.id, last_seen_at=dt.timedelta(minutes=idle + 1))
    assert not _signed_in(browser)


def test_session_ends_after_its_absolute_lifetime_even_in_use(
    app, browser_client, create_user, records
):
    user = create_user("dominique")
    browser = browser_client("dominique", remember=True)
    (record,) = records(user)
    hours = app.config["SESSION_ABSOLUTE_LIFETIME_HOURS"]
    _age(record.id, created_at=dt.timedelta(hours=hours - 1))
    assert _signed_in(browser)
    _age(record.id, created_at=dt.timedelta(hours=hours, minutes=1))
    assert not _signed_in(browser)  # recently used, remembered: still over


def test_lifetimes_are_settings(app, browser_client, create_user, records):
    app.config.update(SESSION_IDLE_TIMEOUT_MINUTES=5, SESSION_ABSOLUTE_LIFETIME_HOURS=2)
    user = create_user("dominique")
    browser = browser_client("dominique")
    (record,) = records(user)
    _age(record.id, last_seen_at=dt.timedelta(minutes=6))
    assert not _signed_in(browser)
    browser = browser_client("dominique")
    record = records(user)[-1]
    _age(record.id, created_at=dt.timedelta(hours=2, minutes=1))
    assert not _signed_in(browser)


def test_last_seen_is_written_at_most_about_once_a_minute(
    browser_client, create_user, records, count_queries
):
    user = create_user("dominique")
    browser = browser_client("dominique")
    (record,) = records(user)
    signed_in_at = record.last_seen_at
    with count_queries() as queries:
        assert _signed_in(browser)
        assert _signed_in(browser)
    assert not [q for q in queries if re.match(r"\s*UPDATE user_sessions", q)]
    assert records(user)[0].last_seen_at == signed_in_at

    _age(record.id, last_seen_at=dt.timedelta(seconds=90))
    with count_queries() as queries:
        assert _signed_in(browser)
    assert len([q for q in queries if re.match(r"\s*UPDATE user_sessions", q)]) == 1
    assert records(user)[0].last_seen_at > signed_in_at


def test_a_signed_in_page_costs_no_more_than_one_extra_select(
    app, client, login_as, browser_client, create_user, count_queries
):
    """The record is read with the user, in the user loader's one query."""
    user = create_user("dominique")
    browser = browser_client("dominique")
    browser.get("/")  # first-visit bookkeeping (analytics) out of the way
    login_as(user)  # the suite's shortcut: the user alone, no record
    client.get("/")
    with count_queries() as without_record:
        assert client.get("/").status_code == 200
    with count_queries() as with_record:
        assert browser.get("/").status_code == 200
    assert len(with_record) <= len(without_record) + 1
    assert sum("user_sessions" in query for query in with_record) == 1
    assert not [q for q in with_record if re.match(r"\s*(UPDATE|INSERT|DELETE)", q)]


def test_bumping_the_session_version_still_ends_every_session(browser_client, create_user, records):
    user = create_user("dominique")
    browser = browser_client("dominique")
    user.session_version += 1
    db.session.commit()
    assert not _signed_in(browser)


def test_expired_records_are_purged_periodically_and_at_sign_in(
    app, browser_client, create_user, records
):
    from maillage.auth.sessions.tasks import purge_expired_sessions

    camille = create_user("camille")
    dominique = create_user("dominique")
    browser_client("camille")
    browser_client("dominique")
    browser_client("dominique")
    idle = dt.timedelta(minutes=app.config["SESSION_IDLE_TIMEOUT_MINUTES"] + 1)
    for record in records(camille) + records(dominique)[:1]:
        _age(record.id, last_seen_at=idle)

    browser_client("dominique")  # signing in clears this person's expired records
    assert len(records(dominique)) == 2
    assert len(records(camille)) == 1

    assert purge_expired_sessions.delay().get() == 1
    assert records(camille) == []
    assert len(records(dominique)) == 2
    assert purge_expired() == 0


def test_ip_prefix_keeps_the_network_only():
    assert ip_prefix("192.0.2.17") == "192.0.2.0/24"
    assert ip_prefix("2001:db8:1:2::17") == "2001:db8:1::/48"
    assert ip_prefix("::ffff:198.51.100.7") == "198.51.100.0/24"
    assert ip_prefix("not an address") == ip_prefix(None) == ""


def test_devices_in_plain_words(app):
    from tests.auth.sessions.conftest import FIREFOX_WINDOWS

    with app.test_request_context():
        assert describe_device(FIREFOX_WINDOWS) == "Firefox sur Windows"
        assert describe_device(SAFARI_IPHONE) == "Safari sur iPhone"
        edge = "Mozilla/5.0 (Windows NT 10.0) Chrome/126.0 Safari/537.36 Edg/126.0"
        assert describe_device(edge) == "Edge sur Windows"
        android = "Mozilla/5.0 (Linux; Android 14) Chrome/126.0 Mobile Safari/537.36"
        assert describe_device(android) == "Chrome sur Android"
        assert describe_device("") == "Navigateur inconnu"
