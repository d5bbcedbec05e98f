"""Signed one-click unsubscribe links (RFC 8058): no sign-in, no database row.

A token names a person and a community (or ``None``: every community) and is signed with the
instance's secret key and a salt of its own, so no token issued for another purpose (sessions,
password resets…) is accepted here.  ``now`` may be given to issue or check a token at a fixed
time (tests); otherwise the clock is read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

SALT = "maillage.notifications.unsubscribe"
DEFAULT_MAX_AGE = dt.timedelta(days=180)


class InvalidToken(Exception):
    """The link was altered, or signed by someone else."""


class ExpiredToken(Exception):
    """The link is genuine but too old."""


@dataclass(frozen=True)
class Unsubscribe:
    user_id: int
    community_id: int | None


def _serializer(now: dt.datetime | None) -> URLSafeTimedSerializer:
    signer = TimestampSigner
    if now is not None:
        stamp = int(now.timestamp())

        class FixedClockSigner(TimestampSigner):
            def get_timestamp(self) -> int:
                return stamp

        signer = FixedClockSigner
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT, signer=signer)


def max_age() -> dt.timedelta:
    days = current_app.config.get("NOTIFICATIONS_UNSUBSCRIBE_VALID_DAYS")
    return dt.timedelta(days=int(days)) if days else DEFAULT_MAX_AGE


def make_token(user_id: int, community_id: int | None, now: dt.datetime | None = None) -> str:
    return _serializer(now).dumps([user_id, community_id])


def read_token(token: str, now: dt.datetime | None = None) -> Unsubscribe:
    try:
        data = _serializer(now).loads(token, max_age=int(max_age().total_seconds()))
    except SignatureExpired as exc:
        raise ExpiredToken from exc
    except BadSignature as exc:
        raise InvalidToken from exc
    if (
        not isinstance(data, list)
        or len(data) != 2
        or not isinstance(data[0], int)
        or not (data[1] is None or isinstance(data[1], int))
    ):
        raise InvalidToken
    return Unsubscribe(data[0], data[1])
