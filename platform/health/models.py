from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from maillage.platform.db import UTCDateTime, utcnow
from maillage.platform.extensions import db


class WorkerHeartbeat(db.Model):
    """The last time a Celery worker ran the periodic heartbeat task (one row per worker name).

    The task goes the whole way a real job goes — beat publishes it, the broker carries it, a
    worker consumes and runs it, the database records it — so a fresh row proves all of them
    work.  /health reads the newest row.  Worker names are host names, never a person's data.
    """

    __tablename__ = "worker_heartbeats"

    id: Mapped[int] = mapped_column(primary_key=True)
    worker: Mapped[str] = mapped_column(String(255), unique=True)
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<WorkerHeartbeat {self.worker} {self.seen_at:%Y-%m-%d %H:%M:%S}>"
