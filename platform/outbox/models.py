from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from maillage.platform.db import UTCDateTime, utcnow
from maillage.platform.extensions import db


class OutboxItem(db.Model):
    """Work that must not be lost, written in the transaction of the change that caused it.

    The broker only carries a wake-up call: a task claims pending items, runs their handler and
    marks them done; a periodic sweeper re-queues items that stayed pending (lost task, worker
    killed, broker restarted).
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "available_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    # pending → done; failed after MAX_ATTEMPTS; sending while an e-mail is handed to the SMTP
    # server, uncertain if its worker died right then (not sent again); held/cancelled after a
    # restore (platform/backup/pending.py).
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # Set when a worker claims the item; the claim expires at ``available_at``.
    lease: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    available_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<OutboxItem {self.id} {self.kind} {self.status}>"
