"""Forms about organisations: the administrators' edition, merge and filters, and the proposal
fields sign-up adds (name, kind, optional SIRET of an organisation not in the list)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SearchField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from maillage.communities.community.labels import ORGANISATION_KIND
from maillage.communities.organisations.models import OrganisationStatus
from maillage.communities.organisations.operations import NAME_MAX, validate_siret
from maillage.communities.users.forms import OrganisationField, operation_check, strip

STATUS_LABELS = {
    OrganisationStatus.ACTIVE: _l("Active"),
    OrganisationStatus.PENDING: _l("À valider"),
    OrganisationStatus.DEACTIVATED: _l("Désactivée"),
}
SOURCE_LABELS = {
    "admin": _l("Administration"),
    "signup": _l("Proposée à l'inscription"),
    "sso": _l("Connexion (SSO, annuaire)"),
    "cli": _l("Ligne de commande"),
    "demo": _l("Démonstration"),
}


def kind_choices(empty_label=None) -> list[tuple[str, str]]:
    choices = [(str(kind), str(label)) for kind, label in ORGANISATION_KIND.items()]
    return [("", str(empty_label)), *choices] if empty_label else choices


def _siret_field(label) -> StringField:
    return StringField(
        label,
        filters=[strip],
        validators=[Optional(), operation_check(validate_siret)],
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 20},
    )


class OrganisationProposalForm(FlaskForm):
    """The fields of an organisation someone proposes; sign-up mixes them in."""

    new_organisation_name = StringField(
        _l("Nom de votre organisation"),
        filters=[strip],
        validators=[
            Length(max=NAME_MAX, message=_l("Le nom fait %(max)d caractères au plus.")),
        ],
        render_kw={"autocomplete": "organization", "maxlength": NAME_MAX},
    )
    # Checked only when an organisation is proposed (check_organisation_choice).
    new_organisation_kind = SelectField(
        _l("Type d'organisation"), choices=kind_choices, validate_choice=False
    )
    new_organisation_siret = _siret_field(_l("SIRET (facultatif)"))

    @property
    def proposes_organisation(self) -> bool:
        return bool(self.new_organisation_name.data)


class OrganisationForm(FlaskForm):
    name = StringField(
        _l("Nom"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Indiquez le nom de l'organisation.")),
            Length(max=NAME_MAX, message=_l("Le nom fait %(max)d caractères au plus.")),
        ],
        render_kw={"maxlength": NAME_MAX},
    )
    kind = SelectField(
        _l("Type"),
        choices=kind_choices,
        invalid_choice_message=_l("Choisissez un type d'organisation dans la liste."),
    )
    siret = _siret_field(_l("SIRET (facultatif)"))
    parent = OrganisationField(
        _l("Organisation de rattachement (facultatif)"), placeholder=_l("Aucune")
    )
    logo = FileField(_l("Logo (PNG, JPEG ou WebP, 2 Mo au plus ; facultatif)"))
    remove_logo = BooleanField(_l("Retirer le logo actuel"))


class MergeForm(FlaskForm):
    target = OrganisationField(
        _l("Organisation qui la remplace"),
        validators=[DataRequired(message=_l("Choisissez l'organisation qui la remplace."))],
        placeholder=_l("Choisissez une organisation"),
    )

    def __init__(self, *args, source=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._source = source

    def validate_target(self, field) -> None:
        if self._source is not None and field.data == self._source.id:
            raise ValidationError(_l("Une organisation ne peut pas être fusionnée avec elle-même."))


class FilterForm(FlaskForm):
    """The listing's filters, read from the query string (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    q = SearchField(
        _l("Nom ou SIRET"),
        filters=[strip],
        validators=[Length(max=100, message=_l("La recherche fait %(max)d caractères au plus."))],
    )
    kind = SelectField(_l("Type"), choices=lambda: kind_choices(_l("Tous")), validate_choice=False)
    status = SelectField(
        _l("État"),
        choices=lambda: (
            [("", str(_l("Tous")))] + [(str(k), str(v)) for k, v in STATUS_LABELS.items()]
        ),
        validate_choice=False,
    )
    members = SelectField(
        _l("Membres"),
        choices=lambda: [
            ("", str(_l("Avec ou sans"))),
            ("with", str(_l("Avec des membres"))),
            ("without", str(_l("Sans membre"))),
        ],
        validate_choice=False,
    )


def check_organisation_choice(form) -> bool:
    """Sign-up: an organisation from the list, or a proposed one, not both nor neither.

    Works without JavaScript: the proposal fields are always in the page and the server decides
    from what was filled.  Errors go on the field concerned.
    """
    chosen = form.organisation.data is not None
    if chosen and form.proposes_organisation:
        form.new_organisation_name.errors.append(
            str(_l("Choisissez une organisation dans la liste ou proposez-en une, pas les deux."))
        )
        return False
    if form.proposes_organisation and form.new_organisation_kind.data not in ORGANISATION_KIND:
        form.new_organisation_kind.errors.append(
            str(_l("Choisissez un type d'organisation dans la liste."))
        )
        return False
    if not chosen and not form.proposes_organisation and len(form.organisation.choices) <= 1:
        # Nothing to pick from (an empty instance): the name is what is missing.
        form.new_organisation_name.errors.append(str(_l("Indiquez le nom de votre organisation.")))
        return False
    if not chosen and not form.proposes_organisation:
        form.organisation.errors.append(
            str(
                _l(
                    "Choisissez votre organisation, ou indiquez son nom si elle n'est pas "
                    "dans la liste."
                )
            )
        )
        return False
    return True
