"""The error a directory provider raises when the directory cannot be used."""


class DirectoryError(Exception):
    """The directory could not be used (down, timeout, TLS refused, service bind refused…);
    the message names what failed and never carries a secret: it is logged and shown on the
    admin status page."""
