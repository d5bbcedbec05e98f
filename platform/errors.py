"""Domain errors and the HTTP error pages (403/404/413/500, CSRF) in the user's language."""

from __future__ import annotations

from flask import jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


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

    @app.errorhandler(OperationError)
    def operation_error(error):
        return render_error(error.status, str(error))

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code is None or error.code < 400:
            return error
        return render_error(error.code)

    @app.errorhandler(Exception)
    def unexpected_error(error):
        if app.config.get("PROPAGATE_EXCEPTIONS"):
            raise error
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500)
