"""Forms for posts and comments.

Length limits mirror the operations (which check again): the form gives the author a French message
next to the field, the operation protects every other caller (API, federation, CLI).
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from maillage.communities.posts.operations import TITLE_MAX


def markdown_length(_form, field) -> None:
    """The Markdown source fits the instance's limit (``MAX_MARKDOWN_LENGTH``)."""
    limit = current_app.config["MAX_MARKDOWN_LENGTH"]
    if field.data and len(field.data) > limit:
        raise ValidationError(
            _l(
                "Le texte fait %(length)d caractères : %(limit)d au plus.",
                length=len(field.data),
                limit=limit,
            )
        )


class PostForm(FlaskForm):
    title = StringField(
        _l("Titre"),
        validators=[
            DataRequired(message=_l("Le titre est obligatoire.")),
            Length(max=TITLE_MAX, message=_l("Le titre fait %(max)d caractères au plus.")),
        ],
        filters=[lambda value: " ".join(value.split()) if value else value],
        render_kw={"maxlength": TITLE_MAX, "autocomplete": "off"},
    )
    body = TextAreaField(
        _l("Texte"),
        validators=[markdown_length],
        description=_l(
            "Mise en forme Markdown : **gras**, *italique*, [lien](https://…), listes avec « - »."
        ),
        render_kw={"rows": 8},
    )


class CommentForm(FlaskForm):
    body = TextAreaField(
        _l("Votre commentaire"),
        id="comment-body",
        validators=[
            DataRequired(message=_l("Le commentaire est vide.")),
            markdown_length,
        ],
        description=_l("Mise en forme Markdown possible."),
        render_kw={"rows": 4},
    )
