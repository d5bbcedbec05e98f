"""Domain errors and the HTTP error pages (403/404/413/500, CSRF) in the user's language; the
503 page of an outage (database or broker unreachable, SQLite busy), which needs no database;
and the one check that refuses text no database can store."""

from __future__ import annotations

import re

from flask import current_app, g, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sqlalchemy_exc
from werkzeug.exceptions import BadRequest, HTTPException

from maillage.platform.db import database_failure


class OperationError(Exception):
    """An operation refused its input; ``message`` is shown to the user, translated."""

    status = 400

    def __init__(self, message, **params) -> None:
        super().__init__(str(message))
        self.message = message
        self.params = params

    def __str__(self) -> str:
        return str(self.message) % self.params if self.params else str(self.message)


class NotAllowed(OperationError):
    status = 403


class Conflict(OperationError):
    status = 409


def wants_json() -> bool:
    return request.path.startswith("/api/") or (request.accept_mimetypes.best == "application/json")


TITLES = {
    400: _l("Requête invalide"),
    403: _l("Accès refusé"),
    404: _l("Page introuvable"),
    405: _l("Méthode non autorisée"),
    409: _l("Conflit"),
    413: _l("Envoi trop volumineux"),
    429: _l("Trop de tentatives"),
    500: _l("Erreur interne"),
    503: _l("Service indisponible"),
}

EXPLANATIONS = {
    400: _l("La requête n'a pas pu être comprise."),
    403: _l("Vous n'avez pas l'autorisation d'accéder à cette page."),
    404: _l("La page demandée n'existe pas ou n'est pas accessible."),
    405: _l("Cette action n'est pas possible à cette adresse."),
    409: _l("Cette action entre en conflit avec l'état actuel."),
    413: _l("Le contenu envoyé dépasse la taille autorisée."),
    429: _l("Trop de tentatives en peu de temps. Réessayez dans quelques minutes."),
    500: _l("Une erreur inattendue s'est produite. L'équipe technique a été prévenue."),
}


def render_error(status: int, detail: str | None = None):
    title = TITLES.get(status, TITLES[500])
    message = detail or EXPLANATIONS.get(status, EXPLANATIONS[500])
    if wants_json():
        return jsonify(
            error={"status": status, "title": str(title), "message": str(message)}
        ), status
    return render_template("errors/error.html", status=status, title=title, message=message), status


# -- outages: a page that needs no database --------------------------------------------------------

UNAVAILABLE_TITLE = _l("Service momentanément indisponible")
OUTAGE_MESSAGES = {
    "database": _l(
        "La base de données ne répond pas. Réessayez dans quelques instants ; si vous envoyiez "
        "un formulaire, vérifiez ensuite qu'il a été enregistré."
    ),
    "broker": _l(
        "La file de traitement des tâches ne répond pas. Réessayez dans quelques instants ; si "
        "vous envoyiez un formulaire, vérifiez ensuite qu'il a été enregistré."
    ),
}
#: A "data exception" of the database (a number too large for its column…): input that no
#: check caught, refused with a 400 rather than a 500.  The checks above each input remain the
#: rule (bounded ``<int:…>`` routes, unstorable text); this is the net under them.
VALUE_REFUSED = _l(
    "Une valeur envoyée ne peut pas être traitée (un nombre trop grand, par exemple). "
    "Vérifiez-la et réessayez."
)
BUSY_MESSAGE = _l("La base de données est occupée, réessayez dans un instant.")


def broker_failure(error: BaseException) -> bool:
    """The broker (Redis, RabbitMQ, the embedded transport) could not take a message."""
    from kombu.exceptions import OperationalError as BrokerUnreachable
    from redis.exceptions import ConnectionError as RedisUnreachable
    from redis.exceptions import TimeoutError as RedisTimeout

    return isinstance(error, (BrokerUnreachable, RedisUnreachable, RedisTimeout))


def outage_of(error: BaseException) -> tuple[str, str] | None:
    """``(what, how)`` when ``error`` (or what caused it) is an outage: ``("database",
    "outage")``, ``("database", "busy")`` or ``("broker", "outage")``; None otherwise."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen and len(seen) < 8:
        seen.add(id(error))
        failure = database_failure(error)
        if failure is not None:
            return "database", failure
        if broker_failure(error):
            return "broker", "outage"
        error = getattr(error, "original_exception", None) or error.__cause__ or error.__context__
    return None


def rollback_quietly() -> None:
    """End the failed transaction, whatever state its connection is in: nothing may run on a
    session whose statement failed (PostgreSQL refuses until the rollback)."""
    from maillage.platform.extensions import db

    try:
        db.session.rollback()
    except Exception:  # the connection is gone: the session is reset anyway
        current_app.logger.debug("rollback after a failure failed too", exc_info=True)


def render_without_database(status: int, title, message) -> str:
    """The minimal page, rendered without Flask's context processors: Flask-Login's loads the
    current user (a query) for every template Flask renders."""
    g.database_unavailable = True  # nor may the locale selector look the current user up
    template = current_app.jinja_env.get_template("errors/unavailable.html")
    return template.render(request=request, status=status, title=title, message=message)


def unavailable_response(what: str, how: str):
    """503 with ``Retry-After``: the minimal page (no current user, no footer, no query) or
    JSON for programs.  SQLite busy: the lock is usually released within the busy timeout."""
    rollback_quietly()
    config = current_app.config
    if how == "busy":
        message = BUSY_MESSAGE
        retry_after = max(1, int(config.get("SQLITE_BUSY_TIMEOUT", 5)))
    else:
        message = OUTAGE_MESSAGES[what]
        retry_after = int(config.get("OUTAGE_RETRY_AFTER", 30))
    if wants_json():
        response = jsonify(
            error={"status": 503, "title": str(TITLES[503]), "message": str(message)}
        )
    else:
        response = current_app.make_response(
            render_without_database(503, UNAVAILABLE_TITLE, message)
        )
    response.status_code = 503
    response.headers["Retry-After"] = str(retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response


def minimal_error_page(status: int, message=None):
    """The error page without the site's layout, when even rendering that failed."""
    rollback_quietly()
    title = TITLES.get(status, TITLES[500])
    message = message or EXPLANATIONS.get(status, EXPLANATIONS[500])
    return render_without_database(status, title, message), status


def server_error(error: BaseException):
    """Every 500: an outage gets its 503; a value the database refused, a 400; otherwise roll
    back (the failed transaction must not break the page's own queries: current user, footer),
    log, and render the usual page — or the minimal one if that fails too."""
    outage = outage_of(error)
    if outage is not None:
        current_app.logger.error(
            "%s unavailable (%s) on %s %s: %s", *outage, request.method, request.path, error
        )
        return unavailable_response(*outage)
    rollback_quietly()
    status, message = 500, None
    if isinstance(error, sqlalchemy_exc.DataError):
        status, message = 400, VALUE_REFUSED
    current_app.logger.error(
        "%s on %s %s",
        "database refused a value" if status == 400 else "unhandled error",
        request.method,
        request.path,
        exc_info=error,
    )
    try:
        return render_error(status, message)
    except Exception:  # the page needs the database, which fails: say so simply
        current_app.logger.exception("the error page failed too")
        return minimal_error_page(status, message)


# -- text no database can store ----------------------------------------------------------------

#: NUL (PostgreSQL refuses it in text) and lone UTF-16 surrogates (JSON's "\ud800": not
#: encodable in UTF-8).  Werkzeug decodes forms and URLs with replacement, JSON does not.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = _l(
    "Le texte envoyé contient un caractère non autorisé (caractère nul ou caractère Unicode "
    "invalide). Retirez-le et réessayez."
)


class UnstorableText(BadRequest):
    """Raised as soon as the request's URL, form or JSON body is read and holds such text;
    answered with a 400 and :data:`UNSTORABLE_MESSAGE`."""


def unstorable(value) -> bool:
    """Whether ``value`` (text, or JSON-like lists and dicts, keys included) holds such text."""
    if isinstance(value, str):
        return UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(unstorable(key) or unstorable(item) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return any(unstorable(item) for item in value)
    return False


def unstorable_fields(fields) -> bool:
    """Whether a MultiDict (query string, form) holds such text, in a name or a value."""
    return any(unstorable(key) or unstorable(values) for key, values in fields.lists())


def refuse_unstorable_url() -> None:
    """``before_request``, first of all hooks: the path and the query string, before any hook
    or view looks something up with them.  The body is checked when it is parsed (see
    :class:`maillage.platform.app.CheckedRequest`), so views that parse it under their own size
    limit (uploads) keep doing so."""
    if unstorable(request.path) or unstorable_fields(request.args):
        raise UnstorableText


# -- wiring ------------------------------------------------------------------------------------


def register_error_handlers(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(
            400,
            _l(
                "Le formulaire a expiré ou son jeton de sécurité manque. "
                "Rechargez la page et réessayez."
            ),
        )

    @app.errorhandler(UnstorableText)
    def unstorable_text(error):
        return render_error(400, UNSTORABLE_MESSAGE)

    @app.errorhandler(OperationError)
    def operation_error(error):
        return render_error(error.status, str(error))

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code is None or error.code < 400:
            return error
        if error.code == 500:  # an error Flask caught outside the view (after_request…)
            return server_error(getattr(error, "original_exception", None) or error)
        return render_error(error.code)

    @app.errorhandler(Exception)
    def unexpected_error(error):
        if outage_of(error) is None and app.config.get("PROPAGATE_EXCEPTIONS"):
            raise error
        return server_error(error)
