"""Forms of account deletion; the operations check the same rules again for every caller."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from maillage.platform.personal_data.registry import Erasure

ERASURE_CHOICES = [
    SelectChoice(
        Erasure.KEEP_CONTENT.value,
        _l("Garder mes contributions, signées « Ancien membre » (recommandé)"),
    ),
    SelectChoice(Erasure.DELETE_CONTENT.value, _l("Supprimer aussi mes contributions")),
]


class DeleteAccountForm(FlaskForm):
    erasure = RadioField(
        _l("Vos contributions (messages, commentaires, documents…)"),
        choices=ERASURE_CHOICES,
        default=Erasure.KEEP_CONTENT.value,
        validators=[InputRequired(message=_l("Choisissez ce que deviennent vos contributions."))],
    )
    password = PasswordField(
        _l("Votre mot de passe, pour confirmer"),
        validators=[InputRequired(message=_l("Saisissez votre mot de passe."))],
    )


class SsoDeleteAccountForm(FlaskForm):
    """For accounts without a password: the proof is a recent sign-in with the provider."""

    erasure = DeleteAccountForm.erasure


class AdminDeleteForm(FlaskForm):
    reason = TextAreaField(
        _l("Motif"),
        validators=[
            InputRequired(message=_l("Indiquez le motif de la suppression.")),
            Length(max=500),
        ],
    )
