"""Markdown to safe HTML: markdown-it-py renders, nh3 sanitises (the raw source is kept too)."""

from __future__ import annotations

import nh3
from flask import current_app
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "strong",
    "em",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "img",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}

_renderer = (
    MarkdownIt("commonmark", {"html": False, "linkify": False})
    .enable("table")
    .enable("strikethrough")
)


class MarkdownTooLong(ValueError):
    pass


def render(source: str) -> str:
    """Render Markdown and sanitise the result; raw HTML in the source is shown as text."""
    limit = current_app.config["MAX_MARKDOWN_LENGTH"]
    if len(source) > limit:
        raise MarkdownTooLong(limit)
    html = _renderer.render(source)
    # Headings start at h2: the page title is the h1.
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
