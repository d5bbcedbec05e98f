"""Helpers for the session tests: browsers signing in through the real form (so each opens a
real server-side session record), and the records of a person."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from maillage.platform.extensions import db

PASSWORD = "correct horse battery"
TOKEN_RE = re.compile(r'name="(?:[\w-]*-)?csrf_token"[^>]*value="([^"]+)"')
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def form_token(client, page: str) -> str:
    match = TOKEN_RE.search(client.get(page).get_data(as_text=True))
    assert match, f"no CSRF token on {page}"
    return match.group(1)


def post_form(client, page: str, action: str, data: dict | None = None):
    """Post ``data`` to ``action`` with the CSRF token of ``page``, as a browser would."""
    return client.post(action, data={**(data or {}), "csrf_token": form_token(client, page)})


def sign_in_browser(
    app, login, *, user_agent=FIREFOX_WINDOWS, address="192.0.2.17", remember=False
):
    """A new browser (test client) signed in through the sign-in form."""
    browser = app.test_client()
    browser.environ_base.update(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=address)
    data = {"login": login, "password": PASSWORD, **({"remember": "y"} if remember else {})}
    response = post_form(browser, "/login", "/login", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


@pytest.fixture
def browser_client(app):
    """``browser_client(login, user_agent=…, address=…, remember=False)``."""

    def make(login, **options):
        return sign_in_browser(app, login, **options)

    return make


@pytest.fixture
def records():
    """``records(user)``: the person's session records, oldest first, as stored."""
    from maillage.auth.sessions.models import SessionRecord

    def read(user):
        db.session.expire_all()
        return list(
            db.session.scalars(
                select(SessionRecord)
                .where(SessionRecord.user_id == user.id)
                .order_by(SessionRecord.id)
            )
        )

    return read
