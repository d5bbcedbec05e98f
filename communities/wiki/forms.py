"""Forms of the wiki.  Limits mirror the operations (which check again for every other caller)."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from maillage.communities.wiki.models import COMMENT_MAX, TITLE_MAX
from maillage.communities.wiki.operations import DELETE_ALL, REPARENT

TOP_LEVEL = ""


def _squash(value):
    return " ".join(value.split()) if value else value


def markdown_length(_form, field) -> None:
    """The Markdown source fits the instance's limit (``MAX_MARKDOWN_LENGTH``)."""
    limit = current_app.config["MAX_MARKDOWN_LENGTH"]
    if field.data and len(field.data) > limit:
        raise ValidationError(
            _l(
                "Le texte fait %(length)d caractères : %(limit)d au plus. Raccourcissez-le ou "
                "découpez-le en sous-pages.",
                length=len(field.data),
                limit=limit,
            )
        )


def comment_field():
    return StringField(
        _l("Résumé de la modification (facultatif)"),
        validators=[
            Length(
                max=COMMENT_MAX,
                message=_l("Le résumé de la modification fait %(max)d caractères au plus."),
            )
        ],
        description=_l("Par exemple : « mise à jour des horaires », « ajout d'un exemple »."),
        filters=[_squash],
        render_kw={"maxlength": COMMENT_MAX, "autocomplete": "off"},
    )


def base_revision_valid(_form, field) -> None:
    if not (field.data or "").isdigit() or int(field.data) < 1:
        raise ValidationError(_l("La version de départ est invalide : rechargez la page."))


class PageContentForm(FlaskForm):
    title = StringField(
        _l("Titre"),
        validators=[
            DataRequired(message=_l("Le titre est obligatoire.")),
            Length(max=TITLE_MAX, message=_l("Le titre fait %(max)d caractères au plus.")),
        ],
        filters=[_squash],
        render_kw={"maxlength": TITLE_MAX, "autocomplete": "off"},
    )
    body = TextAreaField(
        _l("Contenu"),
        validators=[markdown_length],
        description=_l(
            "Mise en forme Markdown : ## intertitre, **gras**, *italique*, [lien](https://…), "
            "listes avec « - », tableaux."
        ),
        render_kw={"rows": 18},
    )
    comment = comment_field()


def listed_parent(_form, field) -> None:
    """The parent is one of the pages offered (a page deleted meanwhile is not)."""
    if field.data not in {choice.value for choice in field.choices}:
        raise ValidationError(_l("Choisissez la page parente dans la liste."))


def parent_field(label):
    return SelectField(
        label, choices=[], default=TOP_LEVEL, validate_choice=False, validators=[listed_parent]
    )


class CreatePageForm(PageContentForm):
    parent = parent_field(_l("Page parente"))
    is_faq = BooleanField(_l("Afficher aussi dans les questions fréquentes (FAQ)"))


class EditPageForm(PageContentForm):
    base_revision = HiddenField(validators=[base_revision_valid])


class RestoreForm(FlaskForm):
    base_revision = HiddenField(validators=[base_revision_valid])
    comment = comment_field()


class MoveForm(FlaskForm):
    parent = parent_field(_l("Nouvelle page parente"))
    position = IntegerField(
        _l("Position parmi les pages de même niveau (facultatif)"),
        validators=[
            Optional(),
            NumberRange(min=1, max=10_000, message=_l("Indiquez un nombre entre 1 et 10 000.")),
        ],
        description=_l("1 pour la placer en premier ; laissez vide pour la placer en dernier."),
        render_kw={"inputmode": "numeric"},
    )
    is_faq = BooleanField(_l("Afficher aussi dans les questions fréquentes (FAQ)"))


class DeleteForm(FlaskForm):
    children = RadioField(
        _l("Que deviennent ses sous-pages ?"),
        choices=[
            SelectChoice(REPARENT, _l("Les rattacher à la page parente (elles sont conservées)")),
            SelectChoice(DELETE_ALL, _l("Les supprimer aussi, avec tout leur historique")),
        ],
        validate_choice=False,
    )

    def validate_children(self, field) -> None:
        if getattr(self, "has_children", False) and field.data not in (REPARENT, DELETE_ALL):
            raise ValidationError(_l("Choisissez ce que deviennent les sous-pages."))


class ActionForm(FlaskForm):
    """A form with nothing but its CSRF token (buttons such as "Monter" / "Descendre")."""
