"""Helpers for the sign-in tests: forms are submitted the way a browser does, with the CSRF token
read from the page (the suite runs with CSRF protection on)."""

from __future__ import annotations

import re

import pytest

TOKEN_RE = re.compile(r'<input[^>]*name="(?:[\w-]*-)?csrf_token"[^>]*value="([^"]+)"')
URL_RE = re.compile(r"https?://\S+")

PASSWORD = "correct horse battery"


@pytest.fixture
def new_client(app):
    """Another browser: ``new_client()``, optionally carrying a session cookie."""

    def make(session_cookie: str | None = None):
        other = app.test_client()
        if session_cookie is not None:
            other.set_cookie("session", session_cookie)
        return other

    return make


def csrf_token(html: str) -> str:
    match = TOKEN_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def submit_on(client, page, data, action=None, prefix="", **kwargs):
    """Open ``page``, then post ``data`` with its CSRF token to ``action`` (default: ``page``)."""
    html = client.get(page).get_data(as_text=True)
    return client.post(
        action or page, data={**data, f"{prefix}csrf_token": csrf_token(html)}, **kwargs
    )


@pytest.fixture
def submit(client):
    """``submit(page, data, action=None, prefix="")`` on the test's client."""

    def do(page, data, action=None, prefix="", **kwargs):
        return submit_on(client, page, data, action, prefix, **kwargs)

    return do


@pytest.fixture
def sign_in(client):
    """``sign_in(login, password=PASSWORD, on=client)`` through the sign-in form."""

    def do(login, password=PASSWORD, on=None, **kwargs):
        return submit_on(on or client, "/login", {"login": login, "password": password}, **kwargs)

    return do


@pytest.fixture
def mails(outbox_mail):
    """``mails(to=None)``: the e-mails sent so far (to one address), as (subject, body, links)."""

    def read(to=None):
        found = []
        for message in outbox_mail():
            if to is None or message["To"] == to:
                body = message.get_content()
                found.append((message["Subject"], body, URL_RE.findall(body)))
        return found

    return read
