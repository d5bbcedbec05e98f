"""The Celery application.

Tasks run inside a Flask app context and receive ids, never ORM objects.  Durability does not live
in the broker (the embedded SQLite transport and Redis both lose or redeliver work): tasks are
idempotent and process rows of the outbox table, which a periodic sweeper re-queues.
"""

from __future__ import annotations

from celery import Celery, Task
from flask import has_app_context

celery = Celery("maillage", include=["maillage.platform.outbox.tasks"])


class AppContextTask(Task):
    """Run the task inside the Flask application's context (the worker creates the app once)."""

    abstract = True
    acks_late = True
    reject_on_worker_lost = True

    def __call__(self, *args, **kwargs):
        # Eagerly run tasks (tests) execute inside the caller's app context: keep it.
        if has_app_context():
            return super().__call__(*args, **kwargs)
        with self.app.flask_app.app_context():
            return super().__call__(*args, **kwargs)


def _forget_connections() -> None:
    """Drop pooled broker connections and producers (Celery's close() keeps an idle pool)."""
    celery.close()
    celery._pool = None
    amqp = celery.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


#: How the worker (and beat) live through a broker outage.  Measured with a real Redis stopped
#: and started under a busy worker (tests/platform/worker/test_redis_outage.py):
#:
#: - retry the connection forever, at start and after a loss (Celery's default gives up after
#:   100 attempts, and a worker that gives up exits);
#: - let a task that is running when the connection drops finish (False): its work is recorded in
#:   the outbox table, not in the broker, so finishing it is the useful thing to do.  Its
#:   acknowledgement is lost with the connection; the message comes back and the task, run again,
#:   finds nothing left to do.  (True would terminate the task mid-batch for nothing.)
#:
#: Whatever happens inside Celery, a worker that exits anyway is restarted (``flask maillage
#: serve`` supervises its worker; the systemd units in deploy/ say Restart=always) and /health
#: answers 503 once its heartbeat is older than HEALTH_WORKER_MAX_SILENCE.
BROKER_RESILIENCE = {
    "broker_connection_retry": True,
    "broker_connection_retry_on_startup": True,
    "broker_connection_max_retries": None,
    "worker_cancel_long_running_tasks_on_connection_loss": False,
}

#: Redis: redelivery after an hour for a message whose worker vanished (tasks are idempotent and
#: the outbox sweeper does not wait for it); idle connections checked before use and kept alive
#: so a Redis restart or a dropped NAT entry is noticed, not waited on.
REDIS_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "health_check_interval": 25,
    "socket_keepalive": True,
    "socket_connect_timeout": 5,
}


def init_celery(app) -> Celery:
    """Configure the shared Celery app from the Flask configuration."""
    broker = app.config["CELERY_BROKER_URL"]
    # One Celery app serves the process; a new Flask app (tests, CLI) must not publish through
    # connections pooled for the previous broker URL.
    _forget_connections()
    celery.conf.update(
        broker_url=broker,
        result_backend=None,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_always_eager=app.config["CELERY_ALWAYS_EAGER"],
        task_eager_propagates=True,
        task_default_queue="maillage",
        timezone="UTC",
        **BROKER_RESILIENCE,
    )
    celery.conf.broker_transport_options = (
        dict(REDIS_TRANSPORT_OPTIONS) if broker.startswith(("redis", "rediss")) else {}
    )
    celery.Task = AppContextTask
    celery.flask_app = app
    app.extensions["celery"] = celery
    return celery


#: Periodic tasks registered by :func:`periodic_task`, given to beat by apply_beat_schedule.
BEAT_SCHEDULE: dict[str, dict] = {
    # Items whose wake-up message was lost, or whose worker died (back within one lease).
    "outbox-sweeper": {"task": "maillage.outbox.sweep", "schedule": 30.0},
}


def periodic_task(schedule, name: str, **options):
    """Declare a Celery task that beat runs on ``schedule`` (seconds or a ``crontab``)."""

    def register(function):
        task = celery.task(name=name, **options)(function)
        BEAT_SCHEDULE[name] = {"task": name, "schedule": schedule}
        return task

    return register


def apply_beat_schedule() -> None:
    celery.conf.beat_schedule = dict(BEAT_SCHEDULE)
