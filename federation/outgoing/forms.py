"""The form to follow a community of another instance."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class FollowRemoteForm(FlaskForm):
    handle = StringField(
        _l("Identifiant ou adresse de la communauté"),
        validators=[
            DataRequired(_l("Indiquez l'identifiant (!nom@instance) ou l'adresse.")),
            Length(max=500, message=_l("Cet identifiant est trop long.")),
        ],
    )
