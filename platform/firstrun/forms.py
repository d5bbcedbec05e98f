"""The setup form: the first organisation and its administrator.

Each field runs the operations' own check (``operation_check``), so the message next to a field
is the one the operation would give; the operations check again when the form is valid.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from maillage.communities.community.labels import ORGANISATION_KIND
from maillage.communities.organisations.operations import validate_siret
from maillage.communities.users.forms import display_name_field, operation_check, strip
from maillage.communities.users.operations import (
    normalise_email,
    validate_password,
    validate_username,
)

ORGANISATION_NAME_MAX = 200
PASSWORD_MAX = 1000


def _lower(value):
    return value.strip().lower() if isinstance(value, str) else value


class SetupForm(FlaskForm):
    organisation_name = StringField(
        _l("Nom de l'organisation"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Indiquez le nom de l'organisation.")),
            Length(
                max=ORGANISATION_NAME_MAX,
                message=_l("Le nom de l'organisation fait %(max)d caractères au plus."),
            ),
        ],
        render_kw={"autocomplete": "organization", "maxlength": ORGANISATION_NAME_MAX},
    )
    kind = SelectField(
        _l("Type d'organisation"),
        choices=[SelectChoice(str(kind), label) for kind, label in ORGANISATION_KIND.items()],
        validate_choice=True,
        invalid_choice_message=_l("Choisissez un type d'organisation dans la liste."),
    )
    siret = StringField(
        _l("SIRET (facultatif)"),
        filters=[strip],
        validators=[operation_check(validate_siret)],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 20},
    )
    username = StringField(
        _l("Identifiant de l'administrateur"),
        filters=[_lower],
        validators=[
            DataRequired(message=_l("Choisissez un identifiant.")),
            operation_check(validate_username),
        ],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    display_name = display_name_field(_l("Indiquez le nom affiché de l'administrateur."))
    email = EmailField(
        _l("Adresse e-mail"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Indiquez l'adresse e-mail de l'administrateur.")),
            Length(max=254, message=_l("L'adresse e-mail fait %(max)d caractères au plus.")),
            operation_check(normalise_email),
        ],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Mot de passe"),
        validators=[
            DataRequired(message=_l("Choisissez un mot de passe.")),
            Length(
                max=PASSWORD_MAX, message=_l("Le mot de passe fait %(max)d caractères au plus.")
            ),
            operation_check(validate_password),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Confirmez le mot de passe"),
        validators=[
            DataRequired(message=_l("Saisissez une seconde fois le mot de passe.")),
            EqualTo("password", message=_l("Les deux mots de passe ne correspondent pas.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )

    def fields_for_setup(self) -> dict:
        """The values :func:`~maillage.platform.firstrun.operations.set_up_instance` takes."""
        return {
            "organisation_name": self.organisation_name.data,
            "kind": self.kind.data,
            "siret": self.siret.data or None,
            "username": self.username.data,
            "display_name": self.display_name.data,
            "email": self.email.data,
            "password": self.password.data,
        }
