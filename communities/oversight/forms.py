"""The form an administrator fills to ask for exceptional access to a community's content."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from maillage.communities.oversight.models import GrantReason
from maillage.communities.oversight.operations import JUSTIFICATION_MAX, JUSTIFICATION_MIN

REASON_LABELS = {
    GrantReason.MODERATION: _l("Modération (signalement, contenu illicite)"),
    GrantReason.LEGAL_REQUEST: _l("Réquisition judiciaire"),
    GrantReason.SECURITY: _l("Incident de sécurité"),
    GrantReason.OTHER: _l("Autre motif"),
}
DURATION_LABELS = {
    "1": _l("1 heure"),
    "24": _l("24 heures"),
    "72": _l("72 heures"),
    "168": _l("7 jours (au plus)"),
}


class AccessRequestForm(FlaskForm):
    reason = RadioField(
        _l("Motif"),
        choices=[SelectChoice(value=key, label=label) for key, label in REASON_LABELS.items()],
        validators=[InputRequired(_l("Choisissez le motif de l'accès."))],
    )
    justification = TextAreaField(
        _l("Justification"),
        description=_l(
            "Expliquez pourquoi cet accès est nécessaire (références du signalement ou de la"
            " réquisition…). Elle est montrée aux propriétaires et animateurs de la communauté."
        ),
        validators=[
            InputRequired(_l("Justifiez l'accès en quelques mots.")),
            Length(
                min=JUSTIFICATION_MIN,
                max=JUSTIFICATION_MAX,
                message=_l("La justification fait entre %(min)d et %(max)d caractères."),
            ),
        ],
    )
    hours = RadioField(
        _l("Durée"),
        choices=[SelectChoice(value=key, label=label) for key, label in DURATION_LABELS.items()],
        default="1",
        validators=[InputRequired(_l("Choisissez une durée."))],
    )
