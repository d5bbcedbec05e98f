"""Signals of the sign-in layer (the flask-multipass "identity established" hook).

Sent inside the transaction that records the sign-in, like the communities signals: a
subscriber's rows (directory memberships, audit) are stored with it or not at all.
"""

from blinker import Namespace

_signals = Namespace()

#: sender: the User; kwargs: info (IdentityInfo), identity (Identity), created (bool: the
#: account was created by this sign-in).  The directory sync subscribes to it.
identity_established = _signals.signal("identity-established")
