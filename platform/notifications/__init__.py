"""Notifications: the header bell, the notifications page, e-mails (immediate or digests) and
each person's preferences.  Content modules ask for notices with the ``notification_requested``
signal (communities.signals); this package decides who may get them and how."""
