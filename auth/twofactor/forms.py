"""Forms of the second factor: the code step of sign-in, set-up, removal, new recovery codes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from maillage.communities.users.forms import strip

CODE_MAX = 32


def _code_field(label, message, numeric: bool) -> StringField:
    render_kw = {
        "autocomplete": "one-time-code",
        "autocapitalize": "none",
        "spellcheck": "false",
        "maxlength": CODE_MAX,
    }
    if numeric:
        render_kw["inputmode"] = "numeric"
    return StringField(
        label,
        filters=[strip],
        validators=[
            DataRequired(message=message),
            Length(max=CODE_MAX, message=_l("Le code fait %(max)d caractères au plus.")),
        ],
        render_kw=render_kw,
    )


def _app_code_field() -> StringField:
    return _code_field(
        _l("Code à 6 chiffres de l'application"),
        _l("Saisissez le code affiché par votre application."),
        numeric=True,
    )


class CodeForm(FlaskForm):
    """The second step of sign-in: a code from the app, or a recovery code."""

    code = _code_field(
        _l("Code de vérification"),
        _l("Saisissez le code affiché par votre application, ou un code de secours."),
        numeric=False,
    )


class SetupForm(FlaskForm):
    code = _app_code_field()


class RegenerateForm(FlaskForm):
    code = _app_code_field()


class DisableForm(FlaskForm):
    password = PasswordField(
        _l("Mot de passe"),
        validators=[DataRequired(message=_l("Indiquez votre mot de passe."))],
        render_kw={"autocomplete": "current-password"},
    )
    code = _code_field(
        _l("Code de l'application ou code de secours"),
        _l("Saisissez le code affiché par votre application, ou un code de secours."),
        numeric=False,
    )
