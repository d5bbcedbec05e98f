from flask import Blueprint

blueprint = Blueprint(
    "documents", "maillage.communities.documents.views", template_folder="templates"
)

from maillage.communities.documents import files_views, views  # noqa: E402,F401 - registers routes
