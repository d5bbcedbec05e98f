"""Forms of the federation admin page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from maillage.federation.transport.operations import REASON_MAX

MODE_CHOICES = [
    SelectChoice(
        value="allowlist",
        label=_l("Liste d'autorisation : seulement les instances autorisées ci-dessous"),
    ),
    SelectChoice(
        value="denylist",
        label=_l("Liste de blocage : toutes les instances sauf celles bloquées ci-dessous"),
    ),
    SelectChoice(
        value="open", label=_l("Ouverte : toutes les instances sauf celles bloquées ci-dessous")
    ),
]
POLICY_CHOICES = [
    SelectChoice(value="allowed", label=_l("Autoriser")),
    SelectChoice(value="denied", label=_l("Bloquer")),
]


class ModeForm(FlaskForm):
    mode = RadioField(
        _l("Mode de fédération"),
        choices=MODE_CHOICES,
        validators=[InputRequired(_l("Choisissez un mode."))],
    )


class InstancePolicyForm(FlaskForm):
    domain = StringField(
        _l("Nom de domaine de l'instance"),
        description=_l("Par exemple lemmy.exemple.fr (sans https:// ni chemin)."),
        validators=[DataRequired(_l("Indiquez le nom de domaine.")), Length(max=255)],
    )
    policy = RadioField(
        _l("Décision"),
        choices=POLICY_CHOICES,
        default="allowed",
        validators=[InputRequired(_l("Choisissez une décision."))],
    )
    reason = TextAreaField(
        _l("Motif"),
        description=_l("Visible des administrateurs et conservé dans le journal."),
        validators=[Length(max=REASON_MAX)],
    )


class ActionForm(FlaskForm):
    """A button-only form (remove from a list, reset health): CSRF token only."""
