"""Forms of moderation; the operations check the same things again for every other caller."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from maillage.communities.moderation.models import ReportCategory, SanctionKind
from maillage.communities.moderation.operations import REASON_MAX

CATEGORY_LABELS = {
    ReportCategory.SPAM: _l("Spam ou publicité"),
    ReportCategory.ABUSE: _l("Propos insultants ou harcèlement"),
    ReportCategory.HATE: _l("Propos haineux ou discriminatoires"),
    ReportCategory.CONFIDENTIAL: _l("Données personnelles ou information confidentielle"),
    ReportCategory.OFF_TOPIC: _l("Hors sujet"),
    ReportCategory.OTHER: _l("Autre raison (précisez)"),
}

SANCTION_LABELS = {
    SanctionKind.MUTE: _l("Réduire au silence (lecture seule)"),
    SanctionKind.BAN: _l("Exclure de la communauté"),
}

#: Durations offered, in days ("0": permanent).
DURATIONS = {
    "1": _l("1 jour"),
    "7": _l("7 jours"),
    "30": _l("30 jours"),
    "90": _l("90 jours"),
    "0": _l("Définitivement"),
}


def choices(labelled: dict) -> list[SelectChoice]:
    return [SelectChoice(value=str(value), label=label) for value, label in labelled.items()]


_reason_length = Length(max=REASON_MAX, message=_l("La raison fait %(max)d caractères au plus."))


class ReportForm(FlaskForm):
    category = RadioField(
        _l("Motif"),
        choices=choices(CATEGORY_LABELS),
        validators=[InputRequired(message=_l("Choisissez le motif du signalement."))],
    )
    reason = TextAreaField(
        _l("Précisions pour les modérateurs (facultatif, sauf « Autre raison »)"),
        validators=[_reason_length],
        render_kw={"rows": 4, "maxlength": REASON_MAX},
    )


class ReasonForm(FlaskForm):
    """The reason of a decision, shown to the author of the content."""

    reason = TextAreaField(
        _l("Raison (montrée à l'auteur)"),
        validators=[
            DataRequired(
                message=_l("Indiquez la raison : elle est montrée à la personne concernée.")
            ),
            _reason_length,
        ],
        render_kw={"rows": 3, "maxlength": REASON_MAX},
    )


class NoteForm(FlaskForm):
    """An optional note (dismissing reports)."""

    reason = TextAreaField(
        _l("Note (facultative, pour le journal)"),
        validators=[_reason_length],
        render_kw={"rows": 2, "maxlength": REASON_MAX},
    )


class SanctionForm(FlaskForm):
    username = StringField(
        _l("Identifiant de la personne"),
        validators=[DataRequired(message=_l("Indiquez l'identifiant de la personne."))],
        render_kw={"autocomplete": "off"},
    )
    kind = SelectField(_l("Sanction"), choices=choices(SANCTION_LABELS))
    duration = SelectField(_l("Durée"), choices=choices(DURATIONS), default="7")
    reason = TextAreaField(
        _l("Raison (montrée à la personne)"),
        validators=[
            DataRequired(
                message=_l("Indiquez la raison : elle est montrée à la personne concernée.")
            ),
            _reason_length,
        ],
        render_kw={"rows": 3, "maxlength": REASON_MAX},
    )
