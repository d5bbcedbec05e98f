"""Forms of the people administration: the list's filters (GET), the actions' reasons, the
CSV import."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, SearchField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from maillage.platform.people import queries
from maillage.platform.people.operations import REASON_MAX, ROLE_LABELS

INVALID_CHOICE = _l("Ce choix n'est pas proposé.")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value=str(value), label=label) for value, label in pairs]


LAST_VISIT_CHOICES = [
    ("", _l("Toutes")),
    ("never", _l("Jamais venu")),
    *((str(days), _l("Pas venu depuis %(n)d jours (ou jamais)", n=days)) for days in (30, 90, 365)),
]
STATUS_LABELS = {
    "active": _l("Actif"),
    "suspended": _l("Suspendu"),
    "deletion": _l("Supprimé ou suppression en attente"),
}


class PeopleFilterForm(FlaskForm):
    """The list's filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    q = SearchField(
        _l("Nom, identifiant, adresse e-mail ou fonction"),
        filters=[_strip],
        validators=[Optional(), Length(max=100)],
    )
    organisation = SelectField(_l("Organisation"), default="")
    provider = SelectField(_l("Moyen de connexion"), default="")
    role = SelectField(
        _l("Rôle sur la plateforme"),
        choices=_choices([("", _l("Tous")), *ROLE_LABELS.items()]),
        default="",
    )
    last_visit = SelectField(
        _l("Dernière visite"), choices=_choices(LAST_VISIT_CHOICES), default=""
    )
    status = SelectField(
        _l("État du compte"),
        choices=_choices([("", _l("Tous")), *STATUS_LABELS.items()]),
        default="",
    )
    remote = BooleanField(_l("Inclure les personnes d'autres instances (fédération)"))

    def load(self, organisations, providers) -> None:
        self.organisation.choices = _choices([("", _l("Toutes")), *organisations])
        self.provider.choices = _choices(
            [("", _l("Tous")), (queries.LOCAL_PROVIDER, _l("Mot de passe local")), *providers]
        )

    def filters(self) -> queries.PeopleFilters:
        """The valid filters only: an unknown choice is ignored, not an error page."""
        self.validate()

        def value(field):
            return (field.data or "") if not field.errors else ""

        organisation = value(self.organisation)
        return queries.PeopleFilters(
            q=value(self.q),
            organisation=int(organisation) if organisation.isdigit() else None,
            provider=value(self.provider),
            role=value(self.role),
            last_visit=value(self.last_visit),
            status=value(self.status),
            remote=bool(self.remote.data),
        )


class ActionForm(FlaskForm):
    """A button posting an action without input (CSRF only)."""


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        _l("Motif"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Indiquez un motif.")),
            Length(max=REASON_MAX, message=_l("Le motif fait 1 000 caractères au plus.")),
        ],
        render_kw={"rows": 3},
    )


class OptionalReasonForm(FlaskForm):
    reason = TextAreaField(
        _l("Motif (facultatif, repris dans l'e-mail)"),
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=REASON_MAX, message=_l("Le motif fait 1 000 caractères au plus.")),
        ],
        render_kw={"rows": 2},
    )


class RoleForm(FlaskForm):
    role = HiddenField(validators=[DataRequired()])
    granted = HiddenField(validators=[DataRequired()])


class ImportForm(FlaskForm):
    file = FileField(
        _l("Fichier CSV"),
        description=_l(
            "Colonnes : « email » (obligatoire), « nom », « organisation » (nom ou SIRET), "
            "« identifiant » et « role » (formateur ou ambassadeur) facultatifs ; séparateur "
            "virgule ou point-virgule ; UTF-8 ; 500 lignes au plus."
        ),
        render_kw={"accept": ".csv,.txt,text/csv,text/plain"},
    )
