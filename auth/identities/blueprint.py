from flask import Blueprint

blueprint = Blueprint("identities", "maillage.auth.identities.views", template_folder="templates")
