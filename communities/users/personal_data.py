"""The ``users`` row in the personal data registry: the archive's ``profile.json``.

Its erasure is the account deletion's own last step (the row is kept, for the foreign keys, and
anonymised by maillage.platform.account_deletion), so the holder's ``erase`` does nothing.
``suspended_by_id`` and ``deletion_requested_by_id`` name the administrators who acted.
"""

from __future__ import annotations

from maillage.communities.users.models import User
from maillage.platform.personal_data.archive import profile
from maillage.platform.personal_data.registry import holds_personal_data


def _anonymised_by_the_deletion(_user, _erasure) -> None:
    """See the module's docstring."""


holds_personal_data(
    User,
    section="profile",
    export=lambda user: [profile(user)],
    erase=_anonymised_by_the_deletion,
    other_people_columns=("suspended_by_id", "deletion_requested_by_id"),
)
