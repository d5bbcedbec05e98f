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

# -- community life (discussions, events, documents, wiki, polls, tasks) -----------------------
# Each content module sends these with its own objects; search providers and notifications
# subscribe by object type.  ``community`` is always given, so subscribers need no lookup.

#: sender: the new object (topic, reply, event, document, wiki page, poll, task…);
#: kwargs: community, actor
content_created = _signals.signal("content-created")
#: sender: the changed object; kwargs: community, actor
content_updated = _signals.signal("content-updated")
#: sender: the object about to be deleted (still loaded); kwargs: community, actor
content_deleted = _signals.signal("content-deleted")

#: Ask for people to be notified.  sender: the object the notification is about; kwargs:
#: community, actor (who caused it, never notified), reason (``mention``, ``reply``,
#: ``answered``, ``new_content``, ``event``, ``event_change``, ``waitlist_promoted``,
#: ``assigned``, ``poll_closed``…), url (absolute path of the page to open), title (short
#: text, plain), recipients (an iterable of Users, or None for "the community's members,
#: according to each one's preferences").  The notifications package decides who really gets
#: what (preferences, permission to read the object) and how (in-app, e-mail, digest).
notification_requested = _signals.signal("notification-requested")

#: Someone opened a piece of content's page (analytics: "most read").  sender: the object;
#: kwargs: community, user (None when anonymous).  Sent by views, never by operations.
content_viewed = _signals.signal("content-viewed")

#: A reaction was added or taken back.  sender: the Post; kwargs: user, emoji, added (bool)
reaction_toggled = _signals.signal("reaction-toggled")

#: A moderation decision (federation relays it, notifications tell the author).  sender: the
#: object acted on (a Post, Comment, Topic, Reply, or the User sanctioned); kwargs: community,
#: actor, action (``hide``, ``restore``, ``delete``, ``lock``, ``unlock``, ``ban``, ``unban``,
#: ``mute``, ``unmute``, ``report``), reason (text shown to the author), expires_at (for
#: sanctions, or None for permanent ones).
moderation_action = _signals.signal("moderation-action")

#: A member's role changed.  sender: the Membership (with its new role); kwargs: actor,
#: previous (the former role)
member_role_changed = _signals.signal("member-role-changed")

#: A pinned announcement was published or unpinned.  sender: the announcement; kwargs:
#: community, actor, pinned (bool)
announcement_pinned = _signals.signal("announcement-pinned")
