"""Forms about people: profile edition, the member directory filters, and the pieces the sign-up
form shares (organisation picker, validators that reuse the operations' own checks).

Limits mirror the operations, which check again for every other caller (API, CLI, federation);
the form only puts a clear message next to the field.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SearchField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from maillage.communities.community.labels import ORGANISATION_KINDS
from maillage.communities.organisations.models import Organisation
from maillage.platform.errors import OperationError
from maillage.platform.extensions import db

DISPLAY_NAME_MAX = 120
JOB_TITLE_MAX = 200
BIO_MAX = 2000


def strip(value):
    return value.strip() if isinstance(value, str) else value


def display_name_field(missing_message) -> StringField:
    """The display name, as sign-up and the profile both ask for it."""
    return StringField(
        _l("Nom affiché"),
        filters=[strip],
        validators=[
            DataRequired(message=missing_message),
            Length(
                max=DISPLAY_NAME_MAX, message=_l("Le nom affiché fait %(max)d caractères au plus.")
            ),
        ],
        render_kw={"autocomplete": "name", "maxlength": DISPLAY_NAME_MAX},
    )


def operation_check(check):
    """A validator running one of the operations' own checks (``check(value)`` raises
    ``OperationError``), so the form shows exactly the message the operation would give."""

    def validator(_form, field):
        try:
            check(field.data or "")
        except OperationError as exc:
            raise ValidationError(str(exc)) from exc

    return validator


def _optional_int(value):
    if value in (None, ""):
        return None
    return int(value)


_KIND_ORDER = {kind: index for index, kind in enumerate(ORGANISATION_KINDS)}


def _by_kind_then_name(organisation: Organisation) -> tuple:
    """State services first, then local authorities, associations, others (the labels' order)."""
    return (_KIND_ORDER.get(organisation.kind, len(_KIND_ORDER)), organisation.name.lower())


class OrganisationField(SelectField):
    """A choice among existing organisations, grouped by kind.

    Call :meth:`load` with the organisations before validating or rendering; ``organisation``
    is then the chosen :class:`Organisation` (``data`` holds its id).
    """

    def __init__(self, label=None, validators=None, placeholder=None, **kwargs):
        super().__init__(
            label,
            validators,
            coerce=_optional_int,
            invalid_value_message=_l("Choisissez une organisation dans la liste."),
            invalid_choice_message=_l("Choisissez une organisation dans la liste."),
            **kwargs,
        )
        self.placeholder = placeholder or _l("Choisissez votre organisation")
        self._by_id: dict[int, Organisation] = {}

    def load(self, organisations: list[Organisation]) -> None:
        organisations = list(organisations)
        current = self.object_data
        if isinstance(current, int) and current not in {o.id for o in organisations}:
            # A person's own pending or deactivated organisation stays theirs to keep.
            kept = db.session.get(Organisation, current)
            if kept is not None:
                organisations.append(kept)
        self._by_id = {organisation.id: organisation for organisation in organisations}
        self.choices = [SelectChoice("", str(self.placeholder))] + [
            SelectChoice(
                organisation.id,
                organisation.name,
                optgroup=str(ORGANISATION_KINDS.get(organisation.kind, organisation.kind)),
            )
            for organisation in sorted(organisations, key=_by_kind_then_name)
        ]

    def pre_validate(self, _form):
        if self.data is not None and self.data not in self._by_id:
            raise ValidationError(str(self.invalid_choice_message))

    @property
    def organisation(self) -> Organisation | None:
        return self._by_id.get(self.data) if self.data is not None else None


def organisation_field(label=None, placeholder=None) -> OrganisationField:
    return OrganisationField(
        label or _l("Organisation"),
        validators=[DataRequired(message=_l("Choisissez votre organisation."))],
        placeholder=placeholder,
    )


class ProfileForm(FlaskForm):
    display_name = display_name_field(
        _l("Indiquez le nom sous lequel les autres membres vous voient.")
    )
    job_title = StringField(
        _l("Fonction (facultatif)"),
        filters=[strip],
        validators=[
            Length(max=JOB_TITLE_MAX, message=_l("La fonction fait %(max)d caractères au plus."))
        ],
        render_kw={"autocomplete": "organization-title", "maxlength": JOB_TITLE_MAX},
    )
    organisation = organisation_field()
    bio = TextAreaField(
        _l("Présentation (facultatif)"),
        validators=[
            Length(max=BIO_MAX, message=_l("La présentation fait %(max)d caractères au plus."))
        ],
        render_kw={"rows": 6, "maxlength": BIO_MAX},
    )


class DirectoryFilterForm(FlaskForm):
    """The member directory's filters, read from the query string (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    q = SearchField(
        _l("Nom"),
        filters=[strip],
        validators=[Length(max=100, message=_l("La recherche fait %(max)d caractères au plus."))],
    )
    kind = SelectField(
        _l("Type d'organisation"),
        choices=[SelectChoice("", _l("Tous les types"))]
        + [SelectChoice(str(kind), label) for kind, label in ORGANISATION_KINDS.items()],
        invalid_choice_message=_l("Type d'organisation inconnu."),
    )
    organisation = OrganisationField(_l("Organisation"), placeholder=_l("Toutes les organisations"))
