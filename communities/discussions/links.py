"""Paths of discussion pages, built without a request: operations send them in notifications and
also run in Celery tasks, the CLI and federation, where ``url_for`` has no request to use."""

from __future__ import annotations

from flask import current_app


def path_for(endpoint: str, **values) -> str:
    return current_app.url_map.bind("").build(endpoint, values)


def topic_path(topic) -> str:
    return path_for("discussions.show", slug=topic.community.slug, topic_id=topic.id)


def reply_path(reply) -> str:
    """A path that always reaches the reply, whatever page of the topic it is on."""
    topic = reply.topic
    return path_for(
        "discussions.reply_link", slug=topic.community.slug, topic_id=topic.id, reply_id=reply.id
    )


def profile_path(username: str) -> str:
    return path_for("users.profile", username=username)
