"""Plain text of remote HTML, for the places that need text rather than markup.

Stripping the tags of ``<p>Test post</p><p>to community</p>`` leaves "Test postto community":
block elements (paragraphs, line breaks, list items, headings…) must separate words.  One
helper for every reader of remote HTML (actor summaries, titles derived from content…).
"""

from __future__ import annotations

import html
import re

import nh3

#: Tags after (or before) which the text of the next element starts a new paragraph.
_BLOCK_TAG = re.compile(
    r"<\s*/?\s*(?:p|div|br|hr|li|ul|ol|dl|dt|dd|h[1-6]|blockquote|pre|table|tr|td|th"
    r"|section|article|header|footer|aside|figure|figcaption|address|details|summary)\b[^>]*>",
    re.IGNORECASE,
)
_BLANK_LINES = re.compile(r"[ \t\r\f\v]*\n\s*\n\s*")


def html_to_text(value, limit: int | None = None) -> str:
    """The text of ``value`` (HTML): block elements become blank lines, entities are decoded.

    Never markup: the result is text to escape when shown (Jinja does), not HTML.
    """
    if not isinstance(value, str) or not value:
        return ""
    separated = _BLOCK_TAG.sub("\n\n", value)
    text = html.unescape(nh3.clean(separated, tags=set()))
    text = _BLANK_LINES.sub("\n\n", text).strip()
    return text[:limit] if limit is not None else text


def one_line(value) -> str:
    """The text of ``value`` (HTML) on one line: blocks separated by a space (for titles)."""
    return " ".join(html_to_text(value).split())
