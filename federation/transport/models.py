"""Remote instances (trust policy and health), the admins' federation settings, and the
delivery outbox."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from maillage.platform.db import UTCDateTime, utcnow
from maillage.platform.extensions import db


class Instance(db.Model):
    """A remote server, by host name (no port): what admins decided about it, and how it answers.

    ``policy``: ``"allowed"`` (allow-list), ``"denied"`` (deny-list) or ``None`` (no decision).
    Health: failing without a success since ``failing_since``; ``failures`` is the circuit
    breaker's count (failures within the current minute while it is closed; once it opened,
    the threshold plus the failed probes, which sets the next pause); nothing is sent until
    ``circuit_open_until``, then one probe (see ``delivery._count_failure``); ``dead_since``
    after days of failures (only a periodic probe is sent until it answers again).
    """

    __tablename__ = "federation_instances"

    id: Mapped[int] = mapped_column(primary_key=True)
    domain: Mapped[str] = mapped_column(String(255), unique=True)
    policy: Mapped[str | None] = mapped_column(String(10))
    policy_reason: Mapped[str] = mapped_column(Text, default="")
    software: Mapped[str] = mapped_column(String(64), default="")
    failures: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    dead_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    circuit_open_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Instance {self.domain} policy={self.policy} failures={self.failures}>"


class FederationSetting(db.Model):
    """A federation setting chosen by admins (e.g. ``mode``); overrides the configuration."""

    __tablename__ = "federation_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<FederationSetting {self.key}={self.value}>"


class Delivery(db.Model):
    """One activity to POST to one inbox: written in the transaction of the change (outbox).

    ``dedupe_key`` (SHA-256 of activity id and inbox URL) makes enqueueing idempotent.
    ``lease`` is set while a worker holds the row; the claim lapses at ``next_attempt_at``.
    """

    __tablename__ = "federation_deliveries"
    __table_args__ = (Index("ix_federation_deliveries_due", "status", "host", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    activity_id: Mapped[str] = mapped_column(String(2048))
    payload: Mapped[dict] = mapped_column(JSON)
    inbox_url: Mapped[str] = mapped_column(String(2048))
    host: Mapped[str] = mapped_column(String(255))
    signer_ap_id: Mapped[str] = mapped_column(String(2048))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    lease: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<Delivery {self.id} {self.activity_id} -> {self.inbox_url} {self.status}>"
