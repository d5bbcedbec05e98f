"""The sign-in form of a directory (one per LDAP provider on the sign-in page)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from maillage.auth.ldap.provider import LOGIN_MAX
from maillage.communities.users.forms import strip

PASSWORD_MAX = 1000


class DirectoryLoginForm(FlaskForm):
    username = StringField(
        _l("Identifiant"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Indiquez votre identifiant.")),
            Length(max=LOGIN_MAX, message=_l("L'identifiant fait %(max)d caractères au plus.")),
        ],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Mot de passe"),
        validators=[
            DataRequired(message=_l("Indiquez votre mot de passe.")),
            Length(
                max=PASSWORD_MAX, message=_l("Le mot de passe fait %(max)d caractères au plus.")
            ),
        ],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Rester connecté sur cet appareil"))
    next = HiddenField()


def login_form(provider, **kwargs) -> DirectoryLoginForm:
    """The form of ``provider`` (its fields prefixed by its name: several directories can share
    the sign-in page), with the provider's own label for the login when it has one."""
    form = DirectoryLoginForm(prefix=provider.form_prefix, **kwargs)
    if provider.ldap.login_label:
        form.username.label.text = provider.ldap.login_label
    return form
