from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError


class AnnouncementForm(FlaskForm):
    title = StringField(
        _l("Titre"),
        validators=[
            DataRequired(message=_l("Le titre est obligatoire.")),
            Length(max=200, message=_l("Le titre fait %(max)d caractères au plus.")),
        ],
        render_kw={"maxlength": 200},
    )
    body = TextAreaField(
        _l("Texte (Markdown)"),
        validators=[
            DataRequired(message=_l("Le texte est obligatoire.")),
            Length(max=50000, message=_l("Le texte fait %(max)d caractères au plus.")),
        ],
        render_kw={"rows": 8},
    )
    expires_on = DateField(
        _l("Afficher jusqu'au (inclus)"),
        validators=[Optional()],
        format="%Y-%m-%d",
    )

    def validate_expires_on(self, field) -> None:
        if field.data is not None and field.data < _local_today():
            raise ValidationError(_l("Choisissez une date à venir."))

    def expires_at(self) -> dt.datetime | None:
        """The end of the chosen day in the instance's time zone, as an aware UTC datetime."""
        if self.expires_on.data is None:
            return None
        next_day = self.expires_on.data + dt.timedelta(days=1)
        local = dt.datetime.combine(next_day, dt.time.min, tzinfo=_zone())
        return local.astimezone(dt.UTC)


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _local_today() -> dt.date:
    return dt.datetime.now(_zone()).date()
