"""Forms of local accounts: sign-up, sign-in, password reset and the account page.

Field checks reuse the operations' own validators (``operation_check``), so a person sees the
same French message whether the form or the operation refuses the value.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from maillage.communities.organisations.forms import (
    OrganisationProposalForm,
    check_organisation_choice,
)
from maillage.communities.users import queries as user_queries
from maillage.communities.users.forms import (
    OrganisationField,
    display_name_field,
    operation_check,
    strip,
)
from maillage.communities.users.operations import (
    normalise_email,
    validate_password,
)
from maillage.communities.users.operations import validate_username as check_username

PASSWORD_MAX = 1000
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}


def _lower(value):
    return value.strip().lower() if isinstance(value, str) else value


def _password_field(label, autocomplete: str, validators=()) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            DataRequired(message=_l("Choisissez un mot de passe.")),
            Length(
                max=PASSWORD_MAX, message=_l("Le mot de passe fait %(max)d caractères au plus.")
            ),
            operation_check(validate_password),
            *validators,
        ],
        render_kw={"autocomplete": autocomplete},
    )


def _email_field(label) -> EmailField:
    return EmailField(
        label,
        filters=[strip],
        validators=[
            DataRequired(message=_l("Indiquez votre adresse e-mail.")),
            Length(max=254, message=_l("L'adresse e-mail fait %(max)d caractères au plus.")),
            operation_check(normalise_email),
        ],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )


def _confirmation_field(label=None) -> PasswordField:
    return PasswordField(
        label or _l("Confirmez le mot de passe"),
        validators=[
            DataRequired(message=_l("Saisissez une seconde fois le mot de passe.")),
            EqualTo("password", message=_l("Les deux mots de passe ne correspondent pas.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


def _username_field() -> StringField:
    return StringField(
        _l("Identifiant"),
        filters=[_lower],
        validators=[
            DataRequired(message=_l("Choisissez un identifiant.")),
            operation_check(check_username),
        ],
        render_kw={
            "autocomplete": "username",
            "autocapitalize": "none",
            "spellcheck": "false",
            "maxlength": 64,
        },
    )


class _NewAccountForm(FlaskForm):
    """What every new local account chooses."""

    username = _username_field()
    display_name = display_name_field(
        _l("Indiquez le nom sous lequel les autres membres vous verront.")
    )

    def validate_username(self, field) -> None:
        # Usernames are public (they are in profile URLs): saying one is taken reveals nothing.
        if user_queries.username_taken(field.data):
            raise ValidationError(_l("Cet identifiant est déjà pris."))


class SignupForm(_NewAccountForm, OrganisationProposalForm):
    """An organisation from the list or a proposed one (see ``check_organisation_choice``)."""

    email = _email_field(_l("Adresse e-mail professionnelle"))
    organisation = OrganisationField(
        _l("Organisation"), placeholder=_l("Choisissez votre organisation")
    )
    password = _password_field(_l("Mot de passe"), "new-password")
    confirm = _confirmation_field()
    accept_platform_charter = BooleanField(
        _l("J'accepte la charte d'utilisation"),
        validators=[DataRequired(message=_l("Acceptez la charte d'utilisation pour continuer."))],
    )
    next = HiddenField()

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        return check_organisation_choice(self) and valid


class InvitedAccountForm(_NewAccountForm):
    """The account an invitation creates: its address is the invited one, not a field."""

    organisation = OrganisationField(
        _l("Organisation (facultatif)"),
        placeholder=_l("Pas dans la liste, ou aucune"),
    )
    password = _password_field(_l("Mot de passe"), "new-password")
    confirm = _confirmation_field()
    # Shown, and required by the operation, only when the community has a charter.
    accept_charter = BooleanField(_l("J'ai lu la charte de la communauté et je l'accepte"))


class LoginForm(FlaskForm):
    login = StringField(
        _l("Identifiant ou adresse e-mail"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Indiquez votre identifiant ou votre adresse e-mail."))
        ],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Mot de passe"),
        validators=[DataRequired(message=_l("Indiquez votre mot de passe."))],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Rester connecté sur cet appareil"))
    next = HiddenField()


class ForgotPasswordForm(FlaskForm):
    email = _email_field(_l("Adresse e-mail du compte"))


class ResetPasswordForm(FlaskForm):
    password = _password_field(_l("Nouveau mot de passe"), "new-password")
    confirm = _confirmation_field(_l("Confirmez le nouveau mot de passe"))


class ChangePasswordForm(FlaskForm):
    current = PasswordField(
        _l("Mot de passe actuel"),
        validators=[DataRequired(message=_l("Indiquez votre mot de passe actuel."))],
        render_kw={"autocomplete": "current-password"},
    )
    password = _password_field(_l("Nouveau mot de passe"), "new-password")
    confirm = _confirmation_field(_l("Confirmez le nouveau mot de passe"))


def _language_choices() -> list[SelectChoice]:
    return [SelectChoice("", str(_l("Celle de mon navigateur")))] + [
        SelectChoice(code, LANGUAGE_NAMES.get(code, code), render_kw={"lang": code})
        for code in current_app.config["LANGUAGES"]
    ]


class LanguageForm(FlaskForm):
    locale = SelectField(
        _l("Langue de l'interface et des e-mails"),
        invalid_choice_message=_l("Langue non disponible."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.locale.choices = _language_choices()


class TokenForm(FlaskForm):
    name = StringField(
        _l("Nom du jeton"),
        filters=[strip],
        validators=[
            DataRequired(
                message=_l("Donnez un nom au jeton (par exemple l'outil qui l'utilisera).")
            ),
            Length(max=100, message=_l("Le nom du jeton fait %(max)d caractères au plus.")),
        ],
        render_kw={"autocomplete": "off", "maxlength": 100},
    )
