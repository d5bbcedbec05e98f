"""API errors: one JSON shape, ``{"error": {"status", "title", "message", "fields"?}}``, with the
message in the request's language."""

from __future__ import annotations

from flask import jsonify
from flask_babel import lazy_gettext as _l

from maillage.platform.errors import TITLES

API_TITLES = {
    **TITLES,
    401: _l("Authentification requise"),
    415: _l("Format non pris en charge"),
    503: _l("Service indisponible"),
}


class ApiError(Exception):
    """Raised by API views; ``fields`` maps an input field to what is wrong with it."""

    def __init__(
        self, status: int, message, fields: dict | None = None, headers: dict | None = None
    ) -> None:
        super().__init__(str(message))
        self.status, self.message = status, message
        self.fields, self.headers = fields or {}, headers or {}


def error_response(error: ApiError):
    body = {
        "status": error.status,
        "title": str(API_TITLES.get(error.status, API_TITLES[500])),
        "message": str(error.message),
    }
    if error.fields:
        body["fields"] = {name: str(message) for name, message in error.fields.items()}
    response = jsonify(error=body)
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


def register(blueprint) -> None:
    blueprint.register_error_handler(ApiError, error_response)
