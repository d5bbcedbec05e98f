"""Forms for topics and replies.

Limits mirror the operations (which check again for every other caller): the form gives the
author a French message next to the field.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from maillage.communities.discussions.operations import TITLE_MAX
from maillage.communities.posts.forms import markdown_length

MARKDOWN_HELP = _l(
    "Mise en forme Markdown : **gras**, *italique*, [lien](https://…), listes avec « - », "
    "citation avec « > ». Mentionnez quelqu'un avec @identifiant."
)


def _squash(value):
    return " ".join(value.split()) if value else value


def _integer_or_none(value):
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


class TopicForm(FlaskForm):
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
        _l("Message"),
        validators=[DataRequired(message=_l("Le message est vide.")), markdown_length],
        description=MARKDOWN_HELP,
        render_kw={"rows": 10},
    )


class ReplyForm(FlaskForm):
    body = TextAreaField(
        _l("Votre réponse"),
        id="reply-body",
        validators=[DataRequired(message=_l("La réponse est vide.")), markdown_length],
        description=MARKDOWN_HELP,
        render_kw={"rows": 6},
    )
    quoted_reply_id = HiddenField(filters=[_integer_or_none])


class EditReplyForm(FlaskForm):
    body = TextAreaField(
        _l("Votre réponse"),
        validators=[DataRequired(message=_l("La réponse est vide.")), markdown_length],
        description=MARKDOWN_HELP,
        render_kw={"rows": 8},
    )
