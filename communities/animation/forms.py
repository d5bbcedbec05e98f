"""Forms of the animation tools; dates are typed in the instance's time zone (Paris)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from maillage.communities.animation.operations import BODY_MAX, TITLE_MAX


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _title_field(label):
    return StringField(
        label,
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Le titre est obligatoire.")),
            Length(max=TITLE_MAX, message=_l("Le titre fait %(max)d caractères au plus.")),
        ],
        render_kw={"maxlength": TITLE_MAX},
    )


def _body_field(label, rows=8):
    return TextAreaField(
        label,
        validators=[
            DataRequired(message=_l("Le texte est obligatoire.")),
            Length(max=BODY_MAX, message=_l("Le texte fait %(max)d caractères au plus.")),
        ],
        description=_l("Markdown accepté : **gras**, *italique*, listes, liens."),
        render_kw={"rows": rows},
    )


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Europe/Paris")


def to_utc(day: dt.date, time: dt.time) -> dt.datetime:
    """The UTC instant of a wall-clock time typed in the instance's zone."""
    return dt.datetime.combine(day, time, local_zone()).astimezone(dt.UTC)


BAD_DATE = _l("Date invalide (format attendu : AAAA-MM-JJ).")
BAD_TIME = _l("Heure invalide (format attendu : HH:MM).")


class AnnouncementForm(FlaskForm):
    title = _title_field(_l("Titre de l'annonce"))
    body = _body_field(_l("Texte de l'annonce"))
    pinned_until = DateField(
        _l("Épinglée jusqu'au (facultatif)"),
        validators=[Optional()],
        description=_l(
            "Inclus. Sans date, l'annonce reste épinglée jusqu'à ce que vous la retiriez."
        ),
    )
    send_email = BooleanField(_l("Envoyer aussi l'annonce par e-mail à tous les membres"))

    def pinned_until_utc(self) -> dt.datetime | None:
        day = self.pinned_until.data
        return to_utc(day + dt.timedelta(days=1), dt.time()) if day else None


class ScheduledPostForm(FlaskForm):
    title = _title_field(_l("Titre de la publication"))
    body = _body_field(_l("Texte de la publication"), rows=10)
    day = DateField(
        _l("Date de publication"),
        validators=[InputRequired(message=_l("La date de publication est obligatoire."))],
    )
    time = TimeField(
        _l("Heure de publication (heure de Paris)"),
        validators=[InputRequired(message=_l("L'heure de publication est obligatoire."))],
    )

    def publish_at(self) -> dt.datetime | None:
        if self.day.data is None or self.time.data is None:
            return None
        return to_utc(self.day.data, self.time.data)


class SummaryForm(FlaskForm):
    subject = _title_field(_l("Objet de l'e-mail"))
    body = _body_field(_l("Texte du résumé"), rows=16)


class SendSummaryForm(FlaskForm):
    resend = BooleanField(_l("Envoyer à nouveau (le résumé a déjà été envoyé)"))


def french_date_errors(form) -> None:
    """WTForms says « Not a valid date value »: say it in French, with the expected format."""
    for field in form:
        typed = field.raw_data and any(value for value in field.raw_data)
        if field.type in {"DateField", "TimeField"} and field.errors and typed:
            field.errors = [BAD_DATE if field.type == "DateField" else BAD_TIME]
