"""Outgoing e-mail, always through the outbox so none is lost or sent twice.

Messages are rendered in the recipient's language by the caller and stored in the outbox; the
worker sends them over SMTP when ``MAIL_SERVER`` is set, otherwise writes each one as an ``.eml``
file under ``instance/mail`` so a development instance needs no mail server.
"""

from __future__ import annotations

import smtplib
from email import policy as email_policy
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from flask import current_app

from maillage.platform.outbox.operations import enqueue, handler

#: Headers that ``send`` sets itself and ``headers`` may not replace.
RESERVED_HEADERS = frozenset({"from", "to", "subject", "message-id"})


class _UrlHeader(UnstructuredHeader):
    """A header holding URLs (``List-Unsubscribe``): written on one line, as is.  The default
    folding turns a long URL, which has no space to fold at, into an RFC 2047 encoded word that
    mail programs do not decode in these headers."""

    def fold(self, *, policy) -> str:
        value = str(self)
        if not value.isascii():
            return super().fold(policy=policy)
        return f"{self.name}: {value}{policy.linesep}"


_headers = HeaderRegistry()
_headers.map_to_type("list-unsubscribe", _UrlHeader)
POLICY = email_policy.default.clone(header_factory=_headers)


def send(to: str, subject: str, text: str, headers: dict[str, str] | None = None) -> None:
    """Queue an e-mail in the current transaction.

    Header values are folded onto one line: a name typed with a line break must not make the
    message impossible to build (or inject a header).  ``headers`` adds more (``List-Unsubscribe``
    and the like); it cannot replace the sender, recipient, subject or Message-ID.
    """
    payload = {
        "to": _one_line(to),
        "subject": _one_line(subject),
        "text": text,
        "message_id": make_msgid("maillage"),
    }
    extra = {
        name: _one_line(value)
        for name, value in (headers or {}).items()
        if name.lower() not in RESERVED_HEADERS
    }
    if extra:
        payload["headers"] = extra
    enqueue("mail.send", **payload)


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _message(payload: dict) -> EmailMessage:
    message = EmailMessage(policy=POLICY)
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = payload["to"]
    message["Subject"] = payload["subject"]
    message["Message-ID"] = payload["message_id"]
    for name, value in payload.get("headers", {}).items():
        message[name] = value
    message.set_content(payload["text"])
    return message


def _deliver_smtp(messages: list[EmailMessage]) -> None:
    config = current_app.config
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        for message in messages:
            smtp.send_message(message)


def _deliver_folder(messages: list[EmailMessage]) -> None:
    folder = Path(current_app.config["MAIL_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    for message in messages:
        # Named by Message-ID: writing the same message twice leaves one file (idempotent).
        name = message["Message-ID"].strip("<>").replace("/", "_")
        (folder / f"{name}.eml").write_bytes(bytes(message))


@handler("mail.send", per_item=True)
def deliver(_session, payloads: list[dict]) -> None:
    messages = [_message(payload) for payload in payloads]
    if current_app.config["MAIL_SERVER"]:
        _deliver_smtp(messages)
    else:
        _deliver_folder(messages)


def read_folder() -> list[EmailMessage]:
    """The messages written to the mail folder, oldest first (development and tests)."""
    from email import policy
    from email.parser import BytesParser

    folder = Path(current_app.config["MAIL_FOLDER"])
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.eml"), key=lambda path: path.stat().st_mtime_ns)
    return [BytesParser(policy=policy.default).parsebytes(path.read_bytes()) for path in files]
