"""Forms for tasks.  Limits mirror the operations, which check again for every other caller."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from maillage.communities.kanban.models import Status
from maillage.communities.kanban.operations import TITLE_MAX
from maillage.communities.posts.forms import markdown_length
from maillage.platform.forms import LocalDateField, collapse_spaces

STATUS_LABELS = {
    Status.TODO: _l("À faire"),
    Status.DOING: _l("En cours"),
    Status.DONE: _l("Terminé"),
}


def _person_id(value) -> int | None:
    return int(value) if value not in ("", None) else None


class AssigneeField(SelectField):
    """A member of the community, or nobody (empty).  Any number is accepted here: the
    operation says, in French, when the person cannot receive the task."""

    def process_formdata(self, valuelist):
        raw = (valuelist[0] if valuelist else "").strip()
        if not raw:
            self.data = None
        elif raw.isdigit():
            self.data = int(raw)
        else:
            self.data = None
            raise ValueError(_l("Choisissez une personne dans la liste."))

    def pre_validate(self, _form):
        pass


class StatusField(SelectField):
    def pre_validate(self, _form):
        if self.data not in Status.ALL:
            raise ValidationError(_l("Choisissez la colonne : à faire, en cours ou terminé."))


class TaskForm(FlaskForm):
    title = StringField(
        _l("Titre"),
        filters=[collapse_spaces],
        validators=[
            DataRequired(message=_l("Le titre de la tâche est obligatoire.")),
            Length(max=TITLE_MAX, message=_l("Le titre fait %(max)d caractères au plus.")),
        ],
        render_kw={"maxlength": TITLE_MAX, "autocomplete": "off"},
    )
    description = TextAreaField(
        _l("Description (facultative)"),
        validators=[markdown_length],
        description=_l("Mise en forme Markdown possible : listes, liens, **gras**."),
        render_kw={"rows": 5},
    )
    assignee = AssigneeField(_l("Personne chargée de la tâche"), choices=[], coerce=_person_id)
    due_on = LocalDateField(
        _l("Échéance (facultative)"),
        format=["%Y-%m-%d", "%d/%m/%Y"],
        validators=[Optional()],
    )
    status = StatusField(
        _l("Colonne"),
        choices=[SelectChoice(value=key, label=label) for key, label in STATUS_LABELS.items()],
        default=Status.TODO,
    )

    def set_assignees(self, people, current=None) -> None:
        """Offer the community's contributors, and the current assignee even if they left."""
        choices = [SelectChoice(value="", label=_l("Personne pour l'instant"))]
        choices += [SelectChoice(value=person.id, label=person.display_name) for person in people]
        if current is not None and all(person.id != current.id for person in people):
            label = _l("%(name)s (n'est plus membre)", name=current.display_name)
            choices.append(SelectChoice(value=current.id, label=label))
        self.assignee.choices = choices
