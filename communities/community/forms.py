"""Forms for communities, memberships, join requests and invitations.

Limits mirror the operations (which check again for every other caller: API, CLI, federation);
the form only gives the person a French message next to the field.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    RadioField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    AnyOf,
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    Regexp,
)
from wtforms.widgets import CheckboxInput, ListWidget

from maillage.communities.community import labels
from maillage.communities.community.models import JoinPolicy, Role, Visibility
from maillage.communities.community.operations import SLUG_RE
from maillage.communities.community.queries import all_topics
from maillage.communities.modules import MODULES

NAME_MAX = 120
DESCRIPTION_MAX = 5000
MESSAGE_MAX = 2000


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _slug_filter(value):
    return value.strip().lower() if isinstance(value, str) else value


def _choices(labelled: dict) -> list[SelectChoice]:
    return [SelectChoice(value=str(value), label=label) for value, label in labelled.items()]


INVALID_CHOICE = _l("Ce choix n'est pas proposé.")


def _topic_choices() -> list[SelectChoice]:
    return [SelectChoice(value=topic.slug, label=topic.name) for topic in all_topics()]


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes (usable on phones and by keyboard)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class _CommunityFieldsForm(FlaskForm):
    name = StringField(
        _l("Nom de la communauté"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Le nom de la communauté est obligatoire.")),
            Length(max=NAME_MAX, message=_l("Le nom fait %(max)d caractères au plus.")),
        ],
        render_kw={"maxlength": NAME_MAX, "autocomplete": "off"},
    )
    description = TextAreaField(
        _l("Description"),
        validators=[
            Length(
                max=DESCRIPTION_MAX, message=_l("La description fait %(max)d caractères au plus.")
            )
        ],
        description=_l("Qui réunit-elle, pour quoi faire ? Visible dans l'annuaire."),
        render_kw={"rows": 6},
    )
    visibility = RadioField(
        _l("Visibilité"),
        choices=_choices(labels.VISIBILITIES),
        default=Visibility.PUBLIC,
        validators=[InputRequired(message=_l("Choisissez une visibilité."))],
        invalid_choice_message=INVALID_CHOICE,
    )
    join_policy = RadioField(
        _l("Adhésion"),
        choices=_choices(labels.JOIN_POLICIES),
        default=JoinPolicy.OPEN,
        validators=[InputRequired(message=_l("Choisissez un mode d'adhésion."))],
        invalid_choice_message=INVALID_CHOICE,
    )
    topics = MultiCheckboxField(
        _l("Thèmes"), choices=_topic_choices, invalid_choice_message=INVALID_CHOICE
    )


TEXT_SETTING_MAX = 20000


class CommunitySettingsForm(_CommunityFieldsForm):
    welcome_message = TextAreaField(
        _l("Message de bienvenue (Markdown)"),
        validators=[
            Length(max=TEXT_SETTING_MAX, message=_l("Ce texte fait %(max)d caractères au plus."))
        ],
        description=_l(
            "Envoyé à chaque nouveau membre (notification et e-mail). Laissez vide pour ne rien "
            "envoyer."
        ),
        render_kw={"rows": 5},
    )
    charter = TextAreaField(
        _l("Charte de la communauté (Markdown)"),
        validators=[
            Length(max=TEXT_SETTING_MAX, message=_l("Ce texte fait %(max)d caractères au plus."))
        ],
        description=_l(
            "Si elle est remplie, chaque personne qui rejoint la communauté doit l'accepter."
        ),
        render_kw={"rows": 8},
    )


def _module_choices() -> list[tuple[str, object]]:
    return [(module.key, module.label) for module in MODULES]


class CommunityModulesForm(FlaskForm):
    modules = MultiCheckboxField(
        _l("Modules activés"),
        choices=_module_choices,
        invalid_choice_message=INVALID_CHOICE,
        description=_l("Seuls les modules activés apparaissent dans la communauté."),
    )


class CommunityForm(_CommunityFieldsForm):
    slug = StringField(
        _l("Adresse web"),
        filters=[_slug_filter],
        validators=[
            Optional(),
            Length(max=64, message=_l("L'adresse fait %(max)d caractères au plus.")),
            Regexp(
                SLUG_RE,
                message=_l(
                    "L'adresse ne contient que des lettres minuscules sans accent, des chiffres "
                    "et des tirets, sans tiret au début ni à la fin."
                ),
            ),
        ],
        description=_l(
            "Facultatif : déduite du nom si vous la laissez vide. Elle ne pourra plus changer."
        ),
        render_kw={"maxlength": 64, "autocomplete": "off", "spellcheck": "false"},
    )


class DirectoryFilterForm(FlaskForm):
    """The directory's filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    q = SearchField(
        _l("Nom de la communauté"), filters=[_strip], validators=[Optional(), Length(max=120)]
    )
    kind = SelectField(
        _l("Organisations rassemblées"),
        choices=_choices({"": _l("Tous les types"), **labels.ORGANISATION_KINDS}),
        default="",
    )
    topic = SelectField(
        _l("Thème"),
        choices=lambda: [SelectChoice(value="", label=_l("Tous les thèmes")), *_topic_choices()],
        default="",
    )

    def filters(self) -> dict[str, str]:
        """The valid filters only: an unknown kind or topic is ignored, not an error page."""
        self.validate()
        return {
            "query": (self.q.data or "") if not self.q.errors else "",
            "kind": (self.kind.data or "") if not self.kind.errors else "",
            "topic": (self.topic.data or "") if not self.topic.errors else "",
        }


class CharterForm(FlaskForm):
    """The charter checkbox of the join, request and invitation forms."""

    accept_charter = BooleanField(_l("J'accepte la charte de la communauté"))


class RequestJoinForm(CharterForm):
    message = TextAreaField(
        _l("Message aux animateurs (facultatif)"),
        filters=[_strip],
        validators=[
            Length(max=MESSAGE_MAX, message=_l("Le message fait %(max)d caractères au plus."))
        ],
        render_kw={"rows": 3, "maxlength": MESSAGE_MAX},
    )


class DecisionForm(FlaskForm):
    decision = StringField(
        validators=[
            AnyOf(["approve", "refuse"], message=_l("Choisissez d'accepter ou de refuser."))
        ]
    )
    message = TextAreaField(
        _l("Message à la personne (facultatif)"),
        filters=[_strip],
        validators=[
            Length(max=MESSAGE_MAX, message=_l("Le message fait %(max)d caractères au plus."))
        ],
    )


class InviteForm(FlaskForm):
    email = EmailField(
        _l("Adresse e-mail de la personne invitée"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("L'adresse e-mail est obligatoire.")),
            Email(message=_l("Cette adresse e-mail n'est pas valide."), check_deliverability=False),
            Length(max=254, message=_l("L'adresse fait %(max)d caractères au plus.")),
        ],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    role = SelectField(
        _l("Rôle dans la communauté"),
        choices=_choices({role: labels.ROLES[role] for role in labels.INVITATION_ROLES}),
        default=Role.MEMBER,
        invalid_choice_message=INVALID_CHOICE,
    )


class RoleForm(FlaskForm):
    role = SelectField(
        _l("Rôle"),
        choices=_choices(labels.ROLES),
        invalid_choice_message=INVALID_CHOICE,
    )


class MemberFilterForm(FlaskForm):
    """The members page's filters, read from the query string (GET: no CSRF token)."""

    class Meta:
        csrf = False

    organisation = SelectField(_l("Organisation"), default="")
    kind = SelectField(
        _l("Type d'organisation"),
        choices=_choices({"": _l("Tous les types"), **labels.ORGANISATION_KINDS}),
        default="",
    )
    role = SelectField(
        _l("Rôle"), choices=_choices({"": _l("Tous les rôles"), **labels.ROLES}), default=""
    )
    activity = SelectField(
        _l("Activité"),
        choices=_choices(
            {
                "": _l("Toutes"),
                "active30": _l("Actifs ces 30 derniers jours"),
                "dormant90": _l("Sans visite depuis plus de 90 jours"),
            }
        ),
        default="",
    )

    def filters(self):
        """The valid filters only: an unknown value is ignored, not an error page."""
        from maillage.communities.community.queries import MemberFilters

        self.validate()
        organisation = self.organisation.data if not self.organisation.errors else ""
        return MemberFilters(
            organisation=int(organisation) if organisation and organisation.isdigit() else None,
            kind=(self.kind.data or "") if not self.kind.errors else "",
            role=(self.role.data or "") if not self.role.errors else "",
            activity=(self.activity.data or "") if not self.activity.errors else "",
        )


class BulkInviteForm(FlaskForm):
    addresses = TextAreaField(
        _l("Adresses e-mail, une par ligne"),
        description=_l(
            "Ou collez un CSV avec une colonne « email » (et une colonne « role » facultative)."
        ),
        render_kw={"rows": 10, "spellcheck": "false", "autocomplete": "off"},
    )
    file = FileField(
        _l("Ou un fichier CSV"),
        description=_l(
            "Une colonne « email », une colonne « role » facultative ; 500 lignes au plus."
        ),
        render_kw={"accept": ".csv,.txt,text/csv,text/plain"},
    )
    role = SelectField(
        _l("Rôle par défaut"),
        choices=_choices({role: labels.ROLES[role] for role in labels.INVITATION_ROLES}),
        default=Role.MEMBER,
        invalid_choice_message=INVALID_CHOICE,
    )
