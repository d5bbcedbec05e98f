"""Who may do what with documents, in the one permission policy.

- documents and folders are seen by whoever may read the community, while the module is on;
- contributors (members and above, not guests) upload documents and create folders
  (``can(user, "post", community)``);
- a document's uploader (while still a contributor) and the community's moderators (owners,
  facilitators, moderators) edit it, move it, add versions and restore old ones;
- its uploader and the moderators delete it;
- a folder's creator (while still a contributor) and the moderators rename and delete it.
"""

from __future__ import annotations

from maillage.communities.documents.models import Document, DocumentFolder, DocumentVersion
from maillage.communities.modules import is_enabled
from maillage.communities.permissions import can, rule

MODULE = "documents"


def _is(user, user_id: int | None) -> bool:
    return user is not None and user_id is not None and user.id == user_id


def _contributes(user, community) -> bool:
    return can(user, "post", community)


def _moderates(user, community) -> bool:
    return can(user, "moderate", community)


@rule(Document, "view")
def _view_document(user, document):
    return is_enabled(document.community, MODULE) and can(user, "read", document.community)


@rule(Document, "edit", "new_version", "restore", "move")
def _edit_document(user, document):
    community = document.community
    return _moderates(user, community) or (
        _is(user, document.uploader_id) and _contributes(user, community)
    )


@rule(Document, "delete")
def _delete_document(user, document):
    return _is(user, document.uploader_id) or _moderates(user, document.community)


@rule(DocumentVersion, "view")
def _view_version(user, version):
    return can(user, "view", version.document)


@rule(DocumentFolder, "view")
def _view_folder(user, folder):
    return is_enabled(folder.community, MODULE) and can(user, "read", folder.community)


@rule(DocumentFolder, "edit", "delete")
def _edit_folder(user, folder):
    community = folder.community
    return _moderates(user, community) or (
        _is(user, folder.created_by_id) and _contributes(user, community)
    )
