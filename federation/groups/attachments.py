"""The link and the images of a remote post or comment, wherever its software puts them.

- the link: a ``Link`` attachment (Lemmy), else the object's top-level ``url`` — a string
  (Mobilizon, Mastodon, older Lemmy) or a list of ``Link`` whose ``text/html`` one is the page
  (PeerTube);
- images: ``Image`` attachments (Lemmy), ``Document`` attachments of an image type (Mastodon,
  Mobilizon), the ``image`` of a Lemmy post, and a PeerTube video's largest ``icon`` when
  nothing else is given.

They become Markdown added after the object's own text: the link as an autolink, each image as
our cached copy (``media.cached_image``) or, when it cannot be had, a plain link to it.
"""

from __future__ import annotations

import re

from maillage.federation.groups.media import cached_image
from maillage.federation.ids import domain_of

MAX_IMAGES = 4
URL_MAX = 1000
ALT_MAX = 300
IMAGE_ATTACHMENTS = frozenset({"Image", "Document"})
_UNSAFE_IN_MARKDOWN = re.compile(r"[\s<>\[\]()\\`]")
_ALT_UNSAFE = re.compile(r"[\[\]\\\n\r`*_<>]")


def _href(value) -> str:
    """An http(s) URL from a string, a ``Link``/``Image`` object or a list of them."""
    if isinstance(value, list):
        return next((url for url in map(_href, value) if url), "")
    if isinstance(value, dict):
        return _href(value.get("href") or value.get("url"))
    if isinstance(value, str) and domain_of(value) and len(value) <= URL_MAX:
        return value
    return ""


def _page_in(value) -> str:
    """The HTML page among the Links of a top-level ``url`` (PeerTube lists its streams too)."""
    if isinstance(value, list):
        pages = [item for item in value if isinstance(item, dict) and _is_page(item)]
        return _href(pages[0]) if pages else _href([v for v in value if isinstance(v, str)])
    return _href(value)


def _is_page(link: dict) -> bool:
    return str(link.get("mediaType") or "text/html").startswith("text/html")


def link_of(obj: dict) -> str:
    for item in _items(obj.get("attachment")):
        if item.get("type") == "Link" and _href(item.get("href")):
            return _href(item.get("href"))
    return _page_in(obj.get("url"))


def _items(value) -> list[dict]:
    values = value if isinstance(value, list) else [value]
    return [item for item in values if isinstance(item, dict)]


def _is_image(item: dict) -> bool:
    media_type = str(item.get("mediaType") or "")
    if item.get("type") == "Image":
        return not media_type or media_type.startswith("image/")
    return item.get("type") == "Document" and media_type.startswith("image/")


def images_of(obj: dict) -> list[tuple[str, str]]:
    """``(url, alt text)`` of the object's images, at most :data:`MAX_IMAGES`, no duplicate."""
    found = [item for item in _items(obj.get("attachment")) if _is_image(item)]
    image = obj.get("image")
    found += _items({"type": "Image", "url": image} if isinstance(image, str) else image)
    if not found and obj.get("type") == "Video":
        icons = [item for item in _items(obj.get("icon")) if _is_image(item)]
        found = sorted(icons, key=lambda item: -_number(item.get("width")))[:1]
    images: dict[str, str] = {}
    for item in found:
        url = _href(item.get("url") or item.get("href"))
        if url and url not in images:
            images[url] = _alt(item.get("name") or item.get("summary"))
    return list(images.items())[:MAX_IMAGES]


def _number(value) -> int:
    return value if isinstance(value, int) else 0


def _alt(value) -> str:
    if not isinstance(value, str):
        return ""
    return " ".join(_ALT_UNSAFE.sub(" ", value).split())[:ALT_MAX]


def _autolink(url: str) -> str:
    return f"<{url}>" if not _UNSAFE_IN_MARKDOWN.search(url) else ""


def extras_markdown(obj: dict, *, budget=None, with_link: bool = True) -> str:
    """The Markdown of the object's link (posts) and images, to add after its text."""
    from flask_babel import gettext as _

    lines = []
    link = link_of(obj) if with_link else ""
    if link and _autolink(link):
        lines.append(_autolink(link))
    for url, alt in images_of(obj):
        ours = cached_image(url, budget)
        if ours is not None:
            lines.append(f"![{alt or _('Image jointe')}]({ours})")
        elif _autolink(url):
            lines.append(f"{_('Image')} : {_autolink(url)}")
    return "\n\n".join(lines)
