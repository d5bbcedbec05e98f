"""Forms for documents and folders.  Limits mirror the operations, which check again (and check
the file itself: type, size, name)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from maillage.communities.documents.operations import (
    COMMENT_MAX,
    DESCRIPTION_MAX,
    FOLDER_NAME_MAX,
    TITLE_MAX,
)


def _one_line(value):
    return " ".join(value.split()) if value else value


def file_chosen(_form, field) -> None:
    if not field.data or not getattr(field.data, "filename", ""):
        raise ValidationError(_l("Choisissez un fichier à envoyer."))


ROOT = ""


class UploadForm(FlaskForm):
    file = FileField(_l("Fichier"), validators=[file_chosen])
    title = StringField(
        _l("Titre (facultatif)"),
        validators=[Length(max=TITLE_MAX, message=_l("Le titre fait %(max)d caractères au plus."))],
        filters=[_one_line],
        description=_l("Par défaut, le nom du fichier."),
        render_kw={"maxlength": TITLE_MAX, "autocomplete": "off"},
    )
    description = TextAreaField(
        _l("Description (facultatif)"),
        validators=[
            Length(
                max=DESCRIPTION_MAX,
                message=_l("La description fait %(max)d caractères au plus."),
            )
        ],
        render_kw={"rows": 4},
    )
    folder = SelectField(_l("Dossier"), choices=[], validate_choice=True)


class VersionForm(FlaskForm):
    file = FileField(_l("Nouveau fichier"), validators=[file_chosen])
    comment = StringField(
        _l("Ce qui change (facultatif)"),
        validators=[
            Length(max=COMMENT_MAX, message=_l("Le commentaire fait %(max)d caractères au plus."))
        ],
        filters=[_one_line],
        render_kw={"maxlength": COMMENT_MAX, "autocomplete": "off"},
    )


class EditForm(FlaskForm):
    title = StringField(
        _l("Titre"),
        validators=[
            DataRequired(message=_l("Le titre est obligatoire.")),
            Length(max=TITLE_MAX, message=_l("Le titre fait %(max)d caractères au plus.")),
        ],
        filters=[_one_line],
        render_kw={"maxlength": TITLE_MAX, "autocomplete": "off"},
    )
    description = TextAreaField(
        _l("Description"),
        validators=[
            Length(
                max=DESCRIPTION_MAX,
                message=_l("La description fait %(max)d caractères au plus."),
            )
        ],
        render_kw={"rows": 4},
    )
    folder = SelectField(_l("Dossier"), choices=[], validate_choice=True)


class FolderForm(FlaskForm):
    name = StringField(
        _l("Nom du dossier"),
        validators=[
            DataRequired(message=_l("Le nom du dossier est obligatoire.")),
            Length(
                max=FOLDER_NAME_MAX,
                message=_l("Le nom du dossier fait %(max)d caractères au plus."),
            ),
        ],
        filters=[_one_line],
        render_kw={"maxlength": FOLDER_NAME_MAX, "autocomplete": "off"},
    )


def set_folder_choices(field: SelectField, choices: list[tuple[int, str]]) -> None:
    field.choices = [(ROOT, _l("Racine des documents")), *((str(i), label) for i, label in choices)]
    field.validate_choice = True
