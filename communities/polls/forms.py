"""Forms for polls and surveys.

Each question is a block (text, possible answers one per line, single or multiple choice); a
survey has several.  Without JavaScript, "Ajouter une question" submits the form, which comes
back with one more block.  The checks mirror the operations (which check again for every other
caller): messages are attached to the field concerned, in French.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from maillage.communities.polls.models import ResultsVisibility
from maillage.communities.polls.operations import (
    MAX_OPTIONS,
    MAX_QUESTIONS,
    QUESTION_MAX,
    TITLE_MAX,
    PollSpec,
    QuestionSpec,
    clean_closing,
    clean_options,
    clean_question,
    local_closing_time,
)
from maillage.communities.posts.forms import markdown_length
from maillage.platform.errors import OperationError
from maillage.platform.forms import (
    LocalDateField,
    LocalIntegerField,
    LocalTimeField,
    collapse_spaces,
)

NAMED, ANONYMOUS = "named", "anonymous"


class QuestionForm(Form):
    text = StringField(
        _l("Intitulé de la question"),
        filters=[collapse_spaces],
        validators=[
            Length(max=QUESTION_MAX, message=_l("Une question fait %(max)d caractères au plus."))
        ],
        render_kw={"maxlength": QUESTION_MAX, "autocomplete": "off"},
    )
    options = TextAreaField(
        _l("Réponses possibles"),
        description=_l("Une réponse par ligne, de 2 à %(n)d.", n=MAX_OPTIONS),
        render_kw={"rows": 5},
    )
    multiple = BooleanField(_l("Plusieurs réponses possibles"))
    max_choices = LocalIntegerField(
        _l("Nombre maximum de réponses (facultatif)"),
        validators=[
            Optional(),
            NumberRange(min=1, max=MAX_OPTIONS, message=_l("Indiquez un nombre entre 1 et 30.")),
        ],
        description=_l("Pour une question à plusieurs réponses. Laissez vide : pas de limite."),
        render_kw={"inputmode": "numeric"},
    )

    def is_empty(self) -> bool:
        return not (self.text.data or "").strip() and not (self.options.data or "").strip()

    def spec(self) -> QuestionSpec:
        return QuestionSpec(
            text=self.text.data or "",
            options=(self.options.data or "").splitlines(),
            multiple=bool(self.multiple.data),
            max_choices=self.max_choices.data if self.multiple.data else None,
        )


class PollForm(FlaskForm):
    title = StringField(
        _l("Question, ou titre du questionnaire"),
        filters=[collapse_spaces],
        validators=[
            DataRequired(message=_l("La question (ou le titre) est obligatoire.")),
            Length(max=TITLE_MAX, message=_l("La question fait %(max)d caractères au plus.")),
        ],
        description=_l(
            "Pour une seule question, c'est la question posée ; pour un questionnaire, son titre."
        ),
        render_kw={"maxlength": TITLE_MAX, "autocomplete": "off"},
    )
    description = TextAreaField(
        _l("Présentation (facultative)"),
        validators=[markdown_length],
        description=_l("Contexte, enjeux… Mise en forme Markdown possible."),
        render_kw={"rows": 4},
    )
    questions = FieldList(FormField(QuestionForm), min_entries=1, max_entries=MAX_QUESTIONS)
    anonymity = RadioField(
        _l("Type de vote"),
        choices=[
            SelectChoice(value=NAMED, label=_l("Nominatif")),
            SelectChoice(value=ANONYMOUS, label=_l("Anonyme")),
        ],
        default=NAMED,
        validate_choice=True,
    )
    results_visibility = RadioField(
        _l("Résultats visibles"),
        choices=[
            SelectChoice(value=ResultsVisibility.ALWAYS, label=_l("Tout le temps")),
            SelectChoice(value=ResultsVisibility.AFTER_VOTE, label=_l("Après avoir voté")),
            SelectChoice(value=ResultsVisibility.AFTER_CLOSE, label=_l("Après la clôture")),
        ],
        default=ResultsVisibility.ALWAYS,
    )
    closes_on = LocalDateField(
        _l("Date de clôture (facultative)"),
        format=["%Y-%m-%d", "%d/%m/%Y"],
        validators=[Optional()],
        description=_l("Heure de Paris. Sans date, le sondage reste ouvert jusqu'à sa clôture."),
    )
    closes_time = LocalTimeField(
        _l("Heure de clôture (facultative)"),
        format=["%H:%M", "%Hh%M", "%Hh"],
        validators=[Optional()],
        description=_l("Sans heure : à la fin de la journée (23 h 59)."),
    )

    spec: PollSpec | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for choice_field in (self.anonymity, self.results_visibility):
            if choice_field.data is None:
                choice_field.data = choice_field.default

    def has_errors(self) -> bool:
        """Any message to show, including those added to a question after validation."""
        nested = any(sub.errors for entry in self.questions for sub in entry.form)
        return bool(self.errors or self.form_errors or nested)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        questions = self._questions()
        closes_at = self._closing()
        if not valid or questions is None or closes_at is False:
            return False
        self.spec = PollSpec(
            title=self.title.data,
            description=self.description.data or "",
            questions=questions,
            anonymous=self.anonymity.data == ANONYMOUS,
            results_visibility=self.results_visibility.data,
            closes_at=closes_at,
        )
        return True

    def _questions(self) -> list[QuestionSpec] | None:
        """The filled-in questions, each checked; None when one is refused."""
        filled = [entry.form for entry in self.questions if not entry.form.is_empty()]
        if not filled:
            self.questions[0].form.options.errors = [
                str(_l("Indiquez les réponses possibles, une par ligne."))
            ]
            return None
        lone_title = self.title.data if len(filled) == 1 else None
        specs = []
        for question in filled:
            spec = question.spec()
            if not (question.text.data or lone_title):
                question.text.errors = [*question.text.errors, str(_l("Indiquez l'intitulé."))]
                return None
            for target, check in (
                (question.options, lambda spec=spec: clean_options(spec.options)),
                (question.max_choices, lambda spec=spec: clean_question(spec, lone_title)),
            ):
                try:
                    check()
                except OperationError as exc:
                    target.errors = [*target.errors, str(exc)]
                    return None
            specs.append(clean_question(spec, lone_title))
        return specs

    def _closing(self):
        """The closing time in UTC, None without a date, False when refused."""
        if self.closes_on.data is None:
            if self.closes_time.data is not None:
                self.closes_on.errors = [str(_l("Indiquez aussi la date de clôture."))]
                return False
            return None
        try:
            return clean_closing(local_closing_time(self.closes_on.data, self.closes_time.data))
        except OperationError as exc:
            self.closes_on.errors = [*self.closes_on.errors, str(exc)]
            return False
