"""Forms for events, answers and date polls.

Dates and times are entered as local wall-clock values (``<input type=date|time>``, which degrade
to text fields where unsupported: ``2026-04-02`` or ``02/04/2026``, ``10:00`` or ``10h00``) plus a
time zone; :meth:`EventForm.validate` turns them into UTC instants.  Limits mirror the
operations, which check again for every other caller.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from maillage.communities.events.models import DEFAULT_TIMEZONE
from maillage.communities.events.operations import (
    CAPACITY_MAX,
    PLACE_MAX,
    TITLE_MAX,
    URL_MAX,
    clean_video_url,
)
from maillage.communities.events.times import TIMEZONE_CHOICES, local_to_utc, zone
from maillage.communities.posts.forms import markdown_length
from maillage.platform.errors import OperationError
from maillage.platform.forms import (
    LocalDateField,
    LocalIntegerField,
    LocalTimeField,
    collapse_spaces,
)

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
TIME_FORMATS = ["%H:%M", "%H:%M:%S", "%Hh%M", "%Hh"]
POLL_SLOT_ROWS = 6


class TimezoneField(SelectField):
    """The usual zones are offered; any valid IANA name sent by a program is accepted too."""

    def pre_validate(self, _form):
        try:
            zone(self.data)
        except OperationError as exc:
            raise ValidationError(str(exc)) from exc


def timezone_choices() -> list[SelectChoice]:
    return [SelectChoice(value=value, label=label) for value, label in TIMEZONE_CHOICES]


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def video_link(_form, field) -> None:
    try:
        field.data = clean_video_url(field.data or "")
    except OperationError as exc:
        raise ValidationError(str(exc)) from exc


def _title_field():
    return StringField(
        _l("Titre"),
        validators=[
            DataRequired(message=_l("Le titre est obligatoire.")),
            Length(max=TITLE_MAX, message=_l("Le titre fait %(max)d caractères au plus.")),
        ],
        filters=[collapse_spaces],
        render_kw={"maxlength": TITLE_MAX, "autocomplete": "off"},
    )


def _description_field():
    return TextAreaField(
        _l("Description"),
        validators=[markdown_length],
        description=_l("Ordre du jour, public visé… Mise en forme Markdown possible."),
        render_kw={"rows": 6},
    )


def _place_field():
    return StringField(
        _l("Lieu"),
        validators=[Length(max=PLACE_MAX, message=_l("Le lieu fait %(max)d caractères au plus."))],
        filters=[collapse_spaces],
        description=_l("Adresse ou salle ; laissez vide pour un événement en ligne."),
        render_kw={"maxlength": PLACE_MAX, "autocomplete": "off"},
    )


def _video_field():
    return StringField(
        _l("Lien de visioconférence"),
        validators=[video_link],
        filters=[_strip],
        description=_l("Adresse https://… du salon (facultatif)."),
        render_kw={"maxlength": URL_MAX, "inputmode": "url", "autocomplete": "off"},
    )


def _timezone_field():
    return TimezoneField(
        _l("Fuseau horaire"),
        choices=timezone_choices(),
        default=DEFAULT_TIMEZONE,
        description=_l("Les heures saisies sont celles de ce fuseau."),
    )


def _required(message):
    return [InputRequired(message=message)]


class EventForm(FlaskForm):
    title = _title_field()
    start_date = LocalDateField(
        _l("Date de début"),
        format=DATE_FORMATS,
        validators=_required(_l("La date de début est obligatoire.")),
    )
    start_time = LocalTimeField(
        _l("Heure de début"),
        format=TIME_FORMATS,
        validators=_required(_l("L'heure de début est obligatoire.")),
    )
    end_date = LocalDateField(
        _l("Date de fin"),
        format=DATE_FORMATS,
        validators=[Optional()],
        description=_l("Laissez vide si l'événement finit le jour où il commence."),
    )
    end_time = LocalTimeField(
        _l("Heure de fin"),
        format=TIME_FORMATS,
        validators=_required(_l("L'heure de fin est obligatoire.")),
    )
    timezone = _timezone_field()
    place = _place_field()
    video_url = _video_field()
    capacity = LocalIntegerField(
        _l("Nombre de places"),
        invalid_message=_l("Indiquez un nombre entier de places."),
        validators=[
            Optional(),
            NumberRange(
                min=1,
                max=CAPACITY_MAX,
                message=_l("Le nombre de places est compris entre %(min)d et %(max)d."),
            ),
        ],
        description=_l(
            "Laissez vide sans limite. Au-delà, les inscrits rejoignent une liste d'attente."
        ),
        render_kw={"inputmode": "numeric"},
    )
    description = _description_field()

    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None

    def set_timezone_choices(self, current: str | None) -> None:
        """Offer the event's own zone even when it is not one of the usual ones."""
        if current and current not in dict(TIMEZONE_CHOICES):
            self.timezone.choices = [*timezone_choices(), SelectChoice(value=current)]

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        end_date = self.end_date.data or self.start_date.data
        try:
            self.starts_at = local_to_utc(
                self.start_date.data, self.start_time.data, self.timezone.data
            )
        except OperationError as exc:
            self.start_time.errors.append(str(exc))
            return False
        try:
            self.ends_at = local_to_utc(end_date, self.end_time.data, self.timezone.data)
        except OperationError as exc:
            self.end_time.errors.append(str(exc))
            return False
        if self.ends_at <= self.starts_at:
            self.end_time.errors.append(str(_l("La fin doit être après le début.")))
            return False
        return True


class SlotForm(Form):
    day = LocalDateField(_l("Date"), format=DATE_FORMATS, validators=[Optional()])
    start_time = LocalTimeField(_l("Début"), format=TIME_FORMATS, validators=[Optional()])
    end_time = LocalTimeField(_l("Fin"), format=TIME_FORMATS, validators=[Optional()])

    def is_empty(self) -> bool:
        return not (self.day.raw_data and self.day.raw_data[0]) and not (
            self.start_time.raw_data and self.start_time.raw_data[0]
        )


class DatePollForm(FlaskForm):
    title = _title_field()
    description = _description_field()
    timezone = _timezone_field()
    place = _place_field()
    video_url = _video_field()
    slots = FieldList(FormField(SlotForm), min_entries=POLL_SLOT_ROWS, max_entries=20)

    slot_times: list[tuple[dt.datetime, dt.datetime]]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        self.slot_times = []
        for entry in self.slots:
            slot = entry.form
            if slot.is_empty() or slot.errors:
                continue
            if valid and not self._add_slot(slot):
                valid = False
        if valid and len(self.slot_times) < 2:
            self.form_errors.append(str(_l("Proposez au moins 2 créneaux.")))
            valid = False
        self._refresh_errors()
        return valid

    def _refresh_errors(self) -> None:
        """WTForms keeps a snapshot of the errors taken during validation: take it again so the
        error summary lists the slot errors added afterwards."""
        for entry in self.slots.entries:
            entry.form._errors = None
        self.slots.errors = [entry.form.errors for entry in self.slots.entries]
        self._errors = None

    def _add_slot(self, slot: SlotForm) -> bool:
        missing = [
            item
            for item in (slot.day, slot.start_time, slot.end_time)
            if item.data is None and not item.errors
        ]
        for item in missing:
            item.errors = [str(_l("À compléter pour ce créneau."))]
        if missing:
            return False
        try:
            starts_at = local_to_utc(slot.day.data, slot.start_time.data, self.timezone.data)
            ends_at = local_to_utc(slot.day.data, slot.end_time.data, self.timezone.data)
        except OperationError as exc:
            slot.start_time.errors = [str(exc)]
            return False
        if ends_at <= starts_at:
            slot.end_time.errors = [str(_l("La fin doit être après le début."))]
            return False
        self.slot_times.append((starts_at, ends_at))
        return True


class SlotChoiceField(RadioField):
    """The slot chosen when closing a poll (choices set by the view), refused in French."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(_l("Choisissez le créneau retenu parmi ceux du sondage.")) from exc

    def pre_validate(self, _form):
        if self.data is None:
            raise ValidationError(_l("Choisissez le créneau retenu."))
        if self.data not in {choice.value for choice in self.choices}:
            raise ValidationError(_l("Choisissez le créneau retenu parmi ceux du sondage."))


class ClosePollForm(FlaskForm):
    slot = SlotChoiceField(_l("Créneau retenu"), coerce=int, choices=[])
    capacity = LocalIntegerField(
        _l("Nombre de places (facultatif)"),
        invalid_message=_l("Indiquez un nombre entier de places."),
        validators=[
            Optional(),
            NumberRange(
                min=1,
                max=CAPACITY_MAX,
                message=_l("Le nombre de places est compris entre %(min)d et %(max)d."),
            ),
        ],
        render_kw={"inputmode": "numeric"},
    )
