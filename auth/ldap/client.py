"""Talking to the directory with python-ldap: connections, TLS, binds and paged searches.

Every failure to use the directory (server down, timeout, TLS refused, service bind refused…)
becomes a :class:`DirectoryError` whose message is safe for the admin status page and the logs:
it never carries a password.
"""

from __future__ import annotations

import contextlib
import logging

import ldap
from ldap.controls import SimplePagedResultsControl
from ldap.ldapobject import LDAPObject

from maillage.auth.directory.errors import DirectoryError
from maillage.auth.ldap.settings import LDAPSettings

logger = logging.getLogger(__name__)

#: errors that mean the directory is not reachable right now
UNREACHABLE = (ldap.SERVER_DOWN, ldap.TIMEOUT, ldap.CONNECT_ERROR, ldap.TIMELIMIT_EXCEEDED)


def describe(exc: ldap.LDAPError) -> str:
    """``desc (info)`` of a python-ldap error (the server's words, no request data)."""
    details = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    text = str(details.get("desc") or type(exc).__name__)
    info = details.get("info")
    if info and info != "(unknown error code)":
        text = f"{text} ({info})"
    return text


def connect(settings: LDAPSettings) -> LDAPObject:
    """A new, not yet bound connection (StartTLS done when configured)."""
    try:
        connection = ldap.initialize(settings.uri)
        connection.set_option(ldap.OPT_PROTOCOL_VERSION, ldap.VERSION3)
        connection.set_option(ldap.OPT_REFERRALS, 0)  # Active Directory's referrals: ignored
        connection.set_option(ldap.OPT_NETWORK_TIMEOUT, settings.timeout)
        connection.set_option(ldap.OPT_TIMEOUT, settings.timeout)
        connection.timeout = settings.timeout
        if settings.uses_tls:
            _configure_tls(connection, settings)
        if settings.start_tls:
            connection.start_tls_s()
    except ldap.LDAPError as exc:
        step = "StartTLS" if settings.start_tls else "connection"
        raise DirectoryError(f"{step} to {settings.uri} failed: {describe(exc)}") from None
    return connection


def _configure_tls(connection: LDAPObject, settings: LDAPSettings) -> None:
    require = ldap.OPT_X_TLS_DEMAND if settings.verify_cert else ldap.OPT_X_TLS_NEVER
    connection.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, require)
    if settings.ca_cert_file:
        connection.set_option(ldap.OPT_X_TLS_CACERTFILE, settings.ca_cert_file)
    connection.set_option(ldap.OPT_X_TLS_NEWCTX, 0)  # last: applies the options above


@contextlib.contextmanager
def service_connection(settings: LDAPSettings):
    """A connection bound with the service account (anonymously without ``bind_dn``)."""
    connection = connect(settings)
    try:
        try:
            connection.simple_bind_s(settings.bind_dn, settings.bind_password)
        except ldap.INVALID_CREDENTIALS:
            raise DirectoryError(
                f"service bind as {settings.bind_dn or 'anonymous'} refused "
                "(check bind_dn and bind_password)"
            ) from None
        except ldap.LDAPError as exc:
            raise DirectoryError(f"service bind failed: {describe(exc)}") from None
        yield connection
    finally:
        _close(connection)


def _close(connection: LDAPObject) -> None:
    with contextlib.suppress(ldap.LDAPError):
        connection.unbind_s()


def password_accepted(settings: LDAPSettings, dn: str, password: str) -> bool:
    """Does the directory accept ``password`` for ``dn``?  A bind on a separate connection.

    An empty DN or password is refused before any bind: many servers treat a bind with a DN and
    no password as an anonymous bind that "succeeds" (RFC 4513, unauthenticated bind).
    """
    if not dn or not password:
        return False
    connection = connect(settings)
    try:
        connection.simple_bind_s(dn, password)
    except (ldap.INVALID_CREDENTIALS, ldap.UNWILLING_TO_PERFORM, ldap.INAPPROPRIATE_AUTH):
        return False
    except UNREACHABLE as exc:
        raise DirectoryError(f"bind as the user failed: {describe(exc)}") from None
    except ldap.LDAPError as exc:  # locked account, password policy…: not signed in
        logger.info("LDAP bind of %s refused: %s", dn, describe(exc))
        return False
    finally:
        _close(connection)
    return True


def search(
    connection: LDAPObject,
    settings: LDAPSettings,
    base: str,
    filterstr: str,
    attributes: list[str],
    scope: int = ldap.SCOPE_SUBTREE,
) -> list[tuple[str, dict[str, list[bytes]]]]:
    """Entries found (referrals dropped), page by page when ``page_size`` is set."""
    try:
        if settings.page_size:
            return _paged(connection, settings, base, filterstr, attributes, scope)
        message = connection.search_ext(
            base, scope, filterstr, attributes, timeout=settings.timeout
        )
        _type, data = connection.result(message, all=1, timeout=settings.timeout)
    except ldap.NO_SUCH_OBJECT:
        return []
    except ldap.LDAPError as exc:
        raise DirectoryError(f"search under {base} failed: {describe(exc)}") from None
    return [(dn, entry) for dn, entry in data if dn is not None]


def find_one(
    connection: LDAPObject,
    settings: LDAPSettings,
    base: str,
    filterstr: str,
    attributes: list[str],
    scope: int = ldap.SCOPE_SUBTREE,
) -> tuple[str, dict[str, list[bytes]]] | None:
    """The one entry matching, or None when none or several match (a login that names two
    entries signs nobody in)."""
    try:
        message = connection.search_ext(
            base, scope, filterstr, attributes, timeout=settings.timeout, sizelimit=2
        )
        _type, data = connection.result(message, all=1, timeout=settings.timeout)
    except ldap.NO_SUCH_OBJECT:
        return None
    except ldap.SIZELIMIT_EXCEEDED:
        data = [("", {}), ("", {})]
    except ldap.LDAPError as exc:
        raise DirectoryError(f"search under {base} failed: {describe(exc)}") from None
    entries = [(dn, entry) for dn, entry in data if dn is not None]
    if len(entries) > 1:
        logger.warning("LDAP filter %s matches several entries under %s", filterstr, base)
        return None
    return entries[0] if entries else None


def _paged(connection, settings, base, filterstr, attributes, scope) -> list:
    control = SimplePagedResultsControl(True, size=settings.page_size, cookie="")
    found = []
    while True:
        message = connection.search_ext(
            base, scope, filterstr, attributes, serverctrls=[control], timeout=settings.timeout
        )
        _type, data, _id, controls = connection.result3(message, timeout=settings.timeout)
        found.extend((dn, entry) for dn, entry in data if dn is not None)
        page = next(
            (
                item
                for item in controls
                if item.controlType == SimplePagedResultsControl.controlType
            ),
            None,
        )
        if page is None or not page.cookie:
            return found
        control.cookie = page.cookie
