"""Outgoing e-mail, always through the outbox so none is lost or sent twice.

Messages are rendered in the recipient's language by the caller and stored in the outbox; the
worker sends them over SMTP when ``MAIL_SERVER`` is set, otherwise writes each one as an ``.eml``
file under ``instance/mail`` so a development instance needs no mail server.
"""

from __future__ import annotations

import contextlib
import copy
import io
import re
import smtplib
from email import policy as email_policy
from email.generator import BytesGenerator
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.utils import getaddresses, make_msgid
from pathlib import Path

from flask import current_app

from maillage.platform.outbox.operations import (
    NotTaken,
    Uncertain,
    enqueue,
    handler,
    point_of_no_return,
)

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
    smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30)
    try:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        for message in messages:
            _send_once(smtp, message)
    finally:
        _hang_up(smtp)


def _hang_up(smtp: smtplib.SMTP) -> None:
    """QUIT, whatever the server answers, then close.

    Not ``with smtplib.SMTP(…)``: its exit raises when QUIT gets anything but 221, and by then
    the messages are accepted — an error there would have them sent again.  Nothing the server
    says (or fails to say) after the messages changes what it has accepted.
    """
    with contextlib.suppress(smtplib.SMTPException, OSError):
        smtp.quit()
    smtp.close()


def _send_once(smtp: smtplib.SMTP, message: EmailMessage) -> None:
    """``smtp.send_message(message)``, with the outbox told just before the message is handed
    over for good.

    An SMTP server keeps a message only once it has read the line with a single dot that ends
    DATA; a connection lost before that line discards the message.  So everything up to the dot
    can be retried without a duplicate; the outbox records the item as ``sending`` right before
    the dot goes out, and a worker that dies after it does not make a second copy.
    """
    sender, recipients, data, options = _envelope(message)
    smtp.ehlo_or_helo_if_needed()
    if "SMTPUTF8" in options and not smtp.has_extn("smtputf8"):
        raise smtplib.SMTPNotSupportedError("le serveur SMTP n'accepte pas les adresses UTF-8")
    code, reply = smtp.mail(sender, options)
    if code != 250:
        _reset(smtp)
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    refused = {}
    for recipient in recipients:
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            refused[recipient] = (code, reply)
    if len(refused) == len(recipients):
        _reset(smtp)
        raise smtplib.SMTPRecipientsRefused(refused)
    code, reply = smtp.docmd("DATA")
    if code != 354:
        _reset(smtp)
        raise smtplib.SMTPDataError(code, reply)
    try:
        smtp.send(_dot_stuffed(data))
        point_of_no_return()
    except BaseException:
        smtp.close()  # DATA never ended: the server drops the message (QUIT would be data)
        raise
    try:
        smtp.send(b".\r\n")
        code, reply = smtp.getreply()
    except OSError as exc:  # SMTPServerDisconnected, a timeout: did the server keep it?
        raise Uncertain(f"pas de réponse du serveur SMTP à la fin du message : {exc}") from exc
    if code != 250:  # the server answered that it did not keep the message: safe to retry
        reason = reply.decode(errors="replace")
        raise NotTaken(f"le serveur SMTP a refusé le message : {code} {reason}")


def _envelope(message: EmailMessage) -> tuple[str, list[str], bytes, list[str]]:
    """Sender, recipients, wire bytes and MAIL options, as ``smtplib.send_message`` makes them."""
    sender = getaddresses([message["Sender"] or message["From"]])[0][1]
    recipients = [
        address
        for _name, address in getaddresses(
            [str(value) for header in ("To", "Cc", "Bcc") for value in message.get_all(header, [])]
        )
    ]
    international = not all(address.isascii() for address in [sender, *recipients])
    policy = message.policy.clone(utf8=True) if international else message.policy
    copy = _without_bcc(message) if message["Bcc"] is not None else message
    with io.BytesIO() as buffer:
        BytesGenerator(buffer, mangle_from_=False, policy=policy).flatten(copy, linesep="\r\n")
        data = buffer.getvalue()
    return sender, recipients, data, (["SMTPUTF8", "BODY=8BITMIME"] if international else [])


def _without_bcc(message: EmailMessage) -> EmailMessage:
    stripped = copy.copy(message)
    del stripped["Bcc"]
    return stripped


def _dot_stuffed(data: bytes) -> bytes:
    """The DATA content without its final dot line: lines starting with a dot get another one."""
    data = re.sub(rb"(?m)^\.", b"..", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def _reset(smtp: smtplib.SMTP) -> None:
    with contextlib.suppress(smtplib.SMTPException):
        smtp.rset()


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
