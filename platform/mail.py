"""Outgoing e-mail, always through the outbox so none is lost or sent twice.

Messages are rendered in the recipient's language by the caller and stored in the outbox; the
worker sends them over SMTP when ``MAIL_SERVER`` is set, otherwise writes each one as an ``.eml``
file under ``instance/mail`` so a development instance needs no mail server.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from flask import current_app

from maillage.platform.outbox.operations import enqueue, handler


def send(to: str, subject: str, text: str) -> None:
    """Queue an e-mail in the current transaction.

    Header values are folded onto one line: a name typed with a line break must not make the
    message impossible to build (or inject a header).
    """
    enqueue(
        "mail.send",
        to=_one_line(to),
        subject=_one_line(subject),
        text=text,
        message_id=make_msgid("maillage"),
    )


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _message(payload: dict) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = payload["to"]
    message["Subject"] = payload["subject"]
    message["Message-ID"] = payload["message_id"]
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
