"""Forms of the legal pages' administration."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FloatField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from maillage.platform.forms import LocalDateField, _ClearParseError


class PageForm(FlaskForm):
    source_fr = TextAreaField(
        _l("Texte en français (Markdown)"),
        validators=[DataRequired(_l("Le texte en français est obligatoire."))],
    )
    source_en = TextAreaField(
        _l("Texte en anglais (Markdown, facultatif)"),
        description=_l("Laissé vide, la page est montrée en français aux personnes anglophones."),
    )


class RateField(_ClearParseError, FloatField):
    """A percentage typed the French way (« 87,5 ») or with a point."""

    invalid_message = _l("Indiquez un pourcentage, par exemple 87,5.")

    def process_formdata(self, valuelist):
        if valuelist:
            valuelist = [valuelist[0].replace(",", ".").replace("%", "").strip()]
        super().process_formdata(valuelist)


STATE_CHOICES = [
    SelectChoice(value="non", label=_l("Non conforme (aucun audit, ou taux inférieur à 50 %)")),
    SelectChoice(value="partial", label=_l("Partiellement conforme (taux de 50 % à 99 %)")),
    SelectChoice(value="full", label=_l("Totalement conforme (taux de 100 %)")),
]


class StatementForm(FlaskForm):
    state = RadioField(_l("État de conformité"), choices=STATE_CHOICES, default="non")
    compliance_rate = RateField(
        _l("Taux de conformité au RGAA (%)"),
        description=_l("Pourcentage de critères respectés, tel que l'audit l'a mesuré."),
        validators=[Optional()],
    )
    audit_date = LocalDateField(_l("Date de l'audit"), validators=[Optional()])
    auditor = StringField(
        _l("Audit réalisé par"),
        description=_l("Organisme ou personne ayant réalisé l'audit."),
        validators=[Length(max=200)],
    )
    statement_date = LocalDateField(
        _l("Date d'établissement de la déclaration"),
        description=_l("Laissée vide : la date du jour."),
        validators=[Optional()],
    )
    technologies = StringField(_l("Technologies utilisées"), validators=[Length(max=300)])
    test_environment = TextAreaField(
        _l("Environnement de test"),
        description=_l(
            "Une combinaison par ligne (agent utilisateur, technologie d'assistance, outil)."
        ),
        validators=[Length(max=5000)],
    )
    contact_email = StringField(
        _l("Adresse électronique de contact accessibilité"),
        description=_l("Laissée vide : l'adresse de contact de l'instance."),
        validators=[Length(max=254)],
    )
    contact_url = StringField(
        _l("Formulaire de contact (adresse web, facultatif)"), validators=[Length(max=500)]
    )
