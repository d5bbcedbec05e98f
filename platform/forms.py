"""Form fields shared by the modules: parse errors in the user's language, spaces collapsed."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, TimeField


def collapse_spaces(value):
    """A WTForms filter: runs of whitespace become one space (titles, names)."""
    return " ".join(value.split()) if isinstance(value, str) else value


class _ClearParseError:
    """Replace WTForms' English parse error with ``invalid_message``."""

    invalid_message = None

    def __init__(self, *args, invalid_message=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if invalid_message is not None:
            self.invalid_message = invalid_message

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(self.invalid_message) from exc


class LocalDateField(_ClearParseError, DateField):
    invalid_message = _l("Date invalide : utilisez le format JJ/MM/AAAA (par exemple 02/04/2026).")


class LocalTimeField(_ClearParseError, TimeField):
    invalid_message = _l("Heure invalide : utilisez le format HH:MM (par exemple 14:30).")


class LocalIntegerField(_ClearParseError, IntegerField):
    invalid_message = _l("Indiquez un nombre entier.")
