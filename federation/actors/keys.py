"""RSA key pairs of local actors (PEM strings; ``cryptography`` does the work)."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KEY_SIZE = 2048


def generate_pem_pair(key_size: int = KEY_SIZE) -> tuple[str, str]:
    """A fresh ``(public_pem, private_pem)``: SubjectPublicKeyInfo and unencrypted PKCS#8, the
    forms Mastodon, Lemmy and PieFed publish and read."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    return public_pem, private_pem


def is_public_key_pem(pem: str) -> bool:
    """Whether ``pem`` loads as a public key (remote documents are checked before storing)."""
    try:
        serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError):
        return False
    return True
