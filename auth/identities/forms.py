"""Forms of the proof that a person holds the existing account their address names."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from maillage.communities.users.forms import strip

PASSWORD_MAX = 1000
CODE_MAX = 32


class ProofPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Mot de passe de ce compte"),
        validators=[
            DataRequired(message=_l("Indiquez le mot de passe du compte.")),
            Length(
                max=PASSWORD_MAX, message=_l("Le mot de passe fait %(max)d caractères au plus.")
            ),
        ],
        render_kw={"autocomplete": "current-password"},
    )
    second_factor = StringField(
        _l("Code de double authentification (si elle est activée sur ce compte)"),
        filters=[strip],
        validators=[Length(max=CODE_MAX, message=_l("Le code fait %(max)d caractères au plus."))],
        render_kw={
            "autocomplete": "one-time-code",
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )


class ProofCodeForm(FlaskForm):
    code = StringField(
        _l("Code reçu par e-mail"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Saisissez le code reçu par e-mail.")),
            Length(max=CODE_MAX, message=_l("Le code fait %(max)d caractères au plus.")),
        ],
        render_kw={
            "autocomplete": "one-time-code",
            "inputmode": "numeric",
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )


def password_form(**kwargs) -> ProofPasswordForm:
    return ProofPasswordForm(prefix="proof-password", **kwargs)


def code_form(**kwargs) -> ProofCodeForm:
    return ProofCodeForm(prefix="proof-code", **kwargs)
