"""Django's signing with the salted key derived once per salt and secret.

``django.core.signing`` derives an HMAC key from the salt and ``SECRET_KEY`` on every call (two hashes and a new
signer object). A newsletter signs several links for every recipient, so the derivation dominated the cost of a
link; these signers give byte-for-byte the same signatures (``signing.loads`` reads them unchanged) and follow a
change of ``SECRET_KEY`` because the cache is keyed on it.
"""

from __future__ import annotations

import functools
import hashlib
import hmac

from django.conf import settings
from django.core import signing
from django.utils.encoding import force_bytes


@functools.lru_cache(maxsize=64)
def _derived_mac(key_salt: str, secret: str) -> hmac.HMAC:
    # As django.utils.crypto.salted_hmac (sha256): the key is sha256(key_salt + secret).
    key = hashlib.sha256(force_bytes(key_salt) + force_bytes(secret)).digest()
    return hmac.new(key, digestmod=hashlib.sha256)


def salted_mac(key_salt: str, value: str) -> hmac.HMAC:
    """``django.utils.crypto.salted_hmac(key_salt, value, algorithm="sha256")`` with the key derived once."""
    mac = _derived_mac(key_salt, settings.SECRET_KEY).copy()
    mac.update(force_bytes(value))
    return mac


class _DerivedKeyMixin:
    def signature(self, value, key=None):
        if key is not None and key != self.key:  # a fallback key while unsigning: Django's own path
            return super().signature(value, key)
        mac = _derived_mac(self.salt + "signer", self.key).copy()
        mac.update(force_bytes(value))
        return signing.b64_encode(mac.digest()).decode()


class _Signer(_DerivedKeyMixin, signing.Signer):
    pass


class _TimestampSigner(_DerivedKeyMixin, signing.TimestampSigner):
    pass


@functools.lru_cache(maxsize=64)
def _signer(salt: str, timestamped: bool, secret: str) -> signing.Signer:
    return (_TimestampSigner if timestamped else _Signer)(key=secret, salt=salt)


def signer(salt: str, *, timestamped: bool = False) -> signing.Signer:
    """A (Timestamp)Signer for ``salt`` under the current ``SECRET_KEY``, reused between calls.

    For signing only: reading goes through ``django.core.signing``, which also tries ``SECRET_KEY_FALLBACKS``.
    """
    return _signer(salt, timestamped, settings.SECRET_KEY)
