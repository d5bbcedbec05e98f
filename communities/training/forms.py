"""Forms of the training space.  Limits mirror the operations, which check again."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from maillage.communities.posts.forms import markdown_length
from maillage.communities.training.models import ResourceKind
from maillage.communities.training.operations import ATTEMPTS_MAX, TITLE_MAX, URL_MAX
from maillage.platform.forms import LocalIntegerField, collapse_spaces

CHOICE_ROWS = 6

RESOURCE_KINDS = {
    ResourceKind.GUIDE: _l("Guide"),
    ResourceKind.HOWTO: _l("Fiche pratique"),
    ResourceKind.TEMPLATE: _l("Modèle"),
    ResourceKind.OTHER: _l("Autre"),
}

TITLE_REQUIRED = _l("Le titre est obligatoire.")
TITLE_TOO_LONG = _l("Le titre fait %(max)d caractères au plus.")


def _title(label):
    return StringField(
        label,
        validators=[DataRequired(TITLE_REQUIRED), Length(max=TITLE_MAX, message=TITLE_TOO_LONG)],
        filters=[collapse_spaces],
    )


class PathForm(FlaskForm):
    title = _title(_l("Titre du parcours"))
    summary = TextAreaField(
        _l("Présentation"), validators=[markdown_length], description=_l("Markdown accepté.")
    )
    grants_certificate = BooleanField(_l("Ce parcours délivre le certificat d'animateur"))


class CourseForm(FlaskForm):
    title = _title(_l("Titre du cours"))
    summary = TextAreaField(
        _l("Présentation"), validators=[markdown_length], description=_l("Markdown accepté.")
    )


class ModuleForm(FlaskForm):
    title = _title(_l("Titre du module"))


class LessonForm(FlaskForm):
    title = _title(_l("Titre de la leçon"))
    body = TextAreaField(
        _l("Contenu"), validators=[markdown_length], description=_l("Markdown accepté.")
    )
    video_url = StringField(
        _l("Lien vers une vidéo (facultatif)"),
        validators=[Optional(), Length(max=URL_MAX)],
        description=_l("Affiché comme un lien : aucune vidéo tierce n'est intégrée à la page."),
    )


class AttachmentForm(FlaskForm):
    file = FileField(_l("Pièce jointe"))


class QuizForm(FlaskForm):
    title = _title(_l("Titre du quiz"))
    pass_mark = LocalIntegerField(
        _l("Note de réussite (%)"),
        default=70,
        validators=[
            InputRequired(_l("Indiquez la note de réussite.")),
            NumberRange(0, 100, _l("La note de réussite est un pourcentage entre 0 et 100.")),
        ],
    )
    max_attempts = LocalIntegerField(
        _l("Nombre maximal de tentatives"),
        default=3,
        validators=[
            InputRequired(_l("Indiquez le nombre de tentatives.")),
            NumberRange(
                1,
                ATTEMPTS_MAX,
                _l("Le nombre de tentatives est compris entre 1 et %(n)d.", n=ATTEMPTS_MAX),
            ),
        ],
    )


class QuestionForm(FlaskForm):
    text = StringField(
        _l("Question"),
        validators=[DataRequired(_l("L'intitulé de la question est obligatoire."))],
        filters=[collapse_spaces],
    )
    multiple = BooleanField(_l("Plusieurs bonnes réponses possibles"))

    def choices(self) -> list[tuple[str, bool]]:
        return [
            (getattr(self, f"choice_{n}").data or "", getattr(self, f"correct_{n}").data)
            for n in range(1, CHOICE_ROWS + 1)
        ]

    def rows(self):
        return [
            (getattr(self, f"choice_{n}"), getattr(self, f"correct_{n}"))
            for n in range(1, CHOICE_ROWS + 1)
        ]


for _n in range(1, CHOICE_ROWS + 1):
    setattr(QuestionForm, f"choice_{_n}", StringField(_l("Réponse %(n)d", n=_n)))
    setattr(QuestionForm, f"correct_{_n}", BooleanField(_l("Réponse %(n)d correcte", n=_n)))


class ResourceForm(FlaskForm):
    title = _title(_l("Titre"))
    kind = SelectField(
        _l("Type"),
        choices=[SelectChoice(value=k.value, label=v) for k, v in RESOURCE_KINDS.items()],
        default=ResourceKind.GUIDE.value,
    )
    description = TextAreaField(_l("Description"), validators=[Length(max=2000)])
    url = StringField(_l("Lien"), validators=[Optional(), Length(max=URL_MAX)])
    file = FileField(_l("ou fichier"))


class ResourceFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Rechercher"), validators=[Optional(), Length(max=100)])
    kind = SelectField(
        _l("Type"),
        choices=[
            SelectChoice(value="", label=_l("Tous les types")),
            *(SelectChoice(value=k.value, label=v) for k, v in RESOURCE_KINDS.items()),
        ],
        validators=[Optional()],
    )


class ConfirmForm(FlaskForm):
    """A button that only carries the CSRF token."""
