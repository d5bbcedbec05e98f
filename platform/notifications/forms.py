"""The preferences form: a default mode, and one choice per community of the person."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf

from maillage.platform.notifications.labels import MODE_LABELS, SAME_AS_DEFAULT
from maillage.platform.notifications.models import MODES

INVALID_CHOICE = _l("Choisissez l'une des options proposées.")


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value=value, label=label) for value, label in pairs]


def field_name(community) -> str:
    return f"community_{community.id}"


class PreferencesForm(FlaskForm):
    default_mode = SelectField(
        _l("Par défaut, pour toutes mes communautés"),
        choices=_choices((mode, MODE_LABELS[mode]) for mode in MODES),
        validators=[AnyOf(MODES, message=INVALID_CHOICE)],
        validate_choice=False,
    )

    def community_fields(self):
        return [field for field in self if field.name.startswith("community_")]


def preferences_form(communities, default: str, chosen: dict[int, str]) -> PreferencesForm:
    """A form with one select per community (empty: follow the default), filled with the
    person's current choices, or with what they posted."""

    class Form(PreferencesForm):
        pass

    choices = _choices([("", SAME_AS_DEFAULT), *((mode, MODE_LABELS[mode]) for mode in MODES)])
    for community in communities:
        setattr(
            Form,
            field_name(community),
            SelectField(
                community.name,
                choices=choices,
                default=chosen.get(community.id, ""),
                validators=[AnyOf(["", *MODES], message=INVALID_CHOICE)],
                validate_choice=False,
            ),
        )
    return Form(default_mode=default)
