"""``@username`` in a message: a link to the person's profile, and a notification for them.

The Markdown is first rendered and sanitised by the platform's helper; mentions are then found in
the text of that safe HTML (never inside links, code or preformatted blocks), only people who
exist, are active and may read the community become links, and the result goes through the
sanitiser once more (with the ``mention`` class allowed on links), so no input can inject markup.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3
from markupsafe import escape
from sqlalchemy import select

from maillage.communities.discussions.links import profile_path
from maillage.communities.permissions import can
from maillage.communities.users.models import User
from maillage.platform.extensions import db
from maillage.platform.markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, render

#: At most this many different people are linked and notified per message.
MAX_MENTIONS = 20
#: An ``@`` not preceded by a letter, a digit, ``.``, ``-`` or ``@`` (not an e-mail address),
#: then a username as ``communities.users.operations.USERNAME_RE`` allows them.
MENTION_RE = re.compile(r"(?<![\w.@-])@([a-z0-9][a-z0-9_.-]{1,62}[a-z0-9])", re.IGNORECASE)
#: Inside these elements, ``@name`` stays text.
SKIPPED = frozenset({"a", "code", "pre"})


class _Segments(HTMLParser):
    """Splits sanitised HTML into raw pieces, flagging the text where mentions may be linked."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.pieces: list[tuple[bool, str]] = []
        self._skipped = 0

    def handle_starttag(self, tag, _attrs):
        if tag in SKIPPED:
            self._skipped += 1
        self.pieces.append((False, self.get_starttag_text() or ""))

    def handle_startendtag(self, _tag, _attrs):
        self.pieces.append((False, self.get_starttag_text() or ""))

    def handle_endtag(self, tag):
        if tag in SKIPPED and self._skipped:
            self._skipped -= 1
        self.pieces.append((False, f"</{tag}>"))

    def handle_data(self, data):
        self.pieces.append((self._skipped == 0, data))

    def handle_entityref(self, name):
        self.pieces.append((False, f"&{name};"))

    def handle_charref(self, name):
        self.pieces.append((False, f"&#{name};"))


def _segments(html: str) -> list[tuple[bool, str]]:
    parser = _Segments()
    parser.feed(html)
    parser.close()
    return parser.pieces


def mentioned_names(html: str) -> list[str]:
    """Lower-case usernames written as ``@name`` in the linkable text of ``html``, in order."""
    names: list[str] = []
    for linkable, text in _segments(html):
        if linkable:
            for match in MENTION_RE.finditer(text):
                name = match.group(1).lower()
                if name not in names:
                    names.append(name)
    return names[:MAX_MENTIONS]


#: A mention link as :func:`_link` writes it (after the sanitiser's serialisation).
LINKED_RE = re.compile(r'<a [^>]*class="mention"[^>]*>@([a-z0-9_.-]+)</a>')


def linked_names(html: str) -> set[str]:
    """The usernames a stored message links as mentions (to notify only new ones on edit)."""
    return set(LINKED_RE.findall(html))


def mentionable(names: list[str], community) -> dict[str, User]:
    """The people among ``names`` who exist, are active and may read ``community``."""
    if not names:
        return {}
    users = db.session.scalars(
        select(User).where(User.username.in_(names), User.is_active.is_(True))
    ).all()
    return {user.username: user for user in users if can(user, "read", community)}


def _link(html: str, people: dict[str, User]) -> str:
    def replace(match: re.Match) -> str:
        user = people.get(match.group(1).lower())
        if user is None:
            return match.group(0)
        href = escape(profile_path(user.username))
        return f'<a href="{href}" class="mention">@{escape(user.username)}</a>'

    linked = "".join(
        MENTION_RE.sub(replace, text) if linkable else text for linkable, text in _segments(html)
    )
    return nh3.clean(
        linked,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes={"a": {"mention"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def render_with_mentions(source: str, community) -> tuple[str, list[User]]:
    """Safe HTML of ``source`` with its mentions linked, and the people mentioned.

    Raises ``MarkdownTooLong`` like :func:`maillage.platform.markdown.render`.
    """
    html = render(source)
    people = mentionable(mentioned_names(html), community)
    if not people:
        return html, []
    return _link(html, people), list(people.values())
