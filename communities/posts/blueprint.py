from flask import Blueprint

blueprint = Blueprint("posts", "maillage.communities.posts.views", template_folder="templates")

from maillage.communities.posts import views  # noqa: E402,F401 - registers the routes
