"""Signals the communities domain emits, so other packages react without being imported here.

Every signal is sent by an operation *before* the transaction commits, with the object as sender;
subscribers add their own rows (search outbox, notifications, federation deliveries) to the same
transaction, so the change and its consequences are stored together or not at all.
"""

from blinker import Namespace

_signals = Namespace()

#: sender: the Community; kwargs: actor
community_created = _signals.signal("community-created")
#: sender: the Community; kwargs: actor
community_updated = _signals.signal("community-updated")
#: sender: the Membership; kwargs: actor
member_joined = _signals.signal("member-joined")
#: sender: the Community; kwargs: user, actor
member_left = _signals.signal("member-left")
#: sender: the JoinRequest
join_requested = _signals.signal("join-requested")
#: sender: the Post; kwargs: actor
post_created = _signals.signal("post-created")
#: sender: the Post; kwargs: actor
post_updated = _signals.signal("post-updated")
#: sender: the Post; kwargs: actor
post_deleted = _signals.signal("post-deleted")
#: sender: the Comment; kwargs: actor
comment_created = _signals.signal("comment-created")
#: sender: the Comment; kwargs: actor
comment_deleted = _signals.signal("comment-deleted")
#: sender: the User; kwargs: none
user_created = _signals.signal("user-created")
#: sender: the User; kwargs: none
user_updated = _signals.signal("user-updated")
