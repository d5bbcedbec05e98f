"""What a session record says about the browser: its network (not its address) and, on the
account page, the device in plain words from the user agent."""

from __future__ import annotations

import ipaddress
import re

from flask_babel import gettext as _

IPV4_PREFIX = 24
IPV6_PREFIX = 48

#: (pattern, name), first match wins: Edge and Opera also say "Chrome", Chrome says "Safari".
BROWSERS = (
    (re.compile(r"\bEdg(e|A|iOS)?/"), "Edge"),
    (re.compile(r"\b(OPR|Opera)/"), "Opera"),
    (re.compile(r"\bSamsungBrowser/"), "Samsung Internet"),
    (re.compile(r"\b(Firefox|FxiOS)/"), "Firefox"),
    (re.compile(r"\b(Chrome|Chromium|CriOS)/"), "Chrome"),
    (re.compile(r"\bSafari/"), "Safari"),
)
#: (pattern, name), first match wins: Android says "Linux", iPhones say "Mac OS X".
SYSTEMS = (
    (re.compile(r"\bAndroid\b"), "Android"),
    (re.compile(r"\biPhone\b"), "iPhone"),
    (re.compile(r"\biPad\b"), "iPad"),
    (re.compile(r"\bWindows\b"), "Windows"),
    (re.compile(r"\bCrOS\b"), "ChromeOS"),
    (re.compile(r"\bMac OS X\b|\bMacintosh\b"), "macOS"),
    (re.compile(r"\bLinux\b"), "Linux"),
)


def ip_prefix(address: str | None) -> str:
    """The network of ``address``: ``192.0.2.0/24`` or ``2001:db8:1::/48`` ("" if unreadable)."""
    try:
        parsed = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return ""
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    length = IPV4_PREFIX if parsed.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{parsed}/{length}", strict=False))


def _first(patterns, text: str) -> str | None:
    return next((name for pattern, name in patterns if pattern.search(text)), None)


def describe_device(user_agent: str | None) -> str:
    """« Firefox sur Windows », « Safari sur iPhone », « Navigateur inconnu »…"""
    text = user_agent or ""
    browser, system = _first(BROWSERS, text), _first(SYSTEMS, text)
    if browser and system:
        return _("%(browser)s sur %(system)s", browser=browser, system=system)
    if browser:
        return browser
    if system:
        return _("Navigateur sur %(system)s", system=system)
    return _("Navigateur inconnu")
