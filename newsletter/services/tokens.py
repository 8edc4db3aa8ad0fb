"""Signed links for subscribers: confirm (expiring), preferences and unsubscribe (long-lived), and the
short-lived export and erase links that are only ever emailed to the address on request.

Every newsletter carries the preferences and unsubscribe links, so anyone who sees a forwarded newsletter has
them: they change choices only. Downloading or erasing a subscriber's data needs an export or erase token
emailed to the address within the last hour, and no page opened by one token shows a token of another purpose.

A token carries the subscriber id and the subscriber's current ``token_key``. Replacing that key (or deleting
the subscriber, as erasure does) invalidates every link issued before, without a table of used tokens.
Each purpose has its own salt, so a token made for one purpose never opens another.
"""

from __future__ import annotations

import functools
import re

from django.conf import settings
from django.core import signing
from django.urls import get_script_prefix, reverse
from django.utils import translation
from django.utils.crypto import constant_time_compare

from newsletter.conf import conf
from portal.core import fast_signing

CONFIRM = "newsletter.confirm"
PREFERENCES = "newsletter.preferences"
UNSUBSCRIBE = "newsletter.unsubscribe"
EXPORT = "newsletter.export"
ERASE = "newsletter.erase"
# Turning on the click history is consent to more processing: like export and erase, it needs a link emailed to
# the address (the preferences link is in every newsletter, so whoever sees a forwarded one has it).
CLICKS = "newsletter.clicks"
PURPOSES = (CONFIRM, PREFERENCES, UNSUBSCRIBE, EXPORT, ERASE, CLICKS)
# Address tokens (the local part of an email address, see ``make_address_token``): the envelope sender of one
# delivery (bounces come back to it) and the List-Unsubscribe mailto address of one subscriber.
RETURN_PATH = "newsletter.return-path"
MAILTO_UNSUBSCRIBE = "newsletter.mailto-unsubscribe"
ADDRESS_PURPOSES = {RETURN_PATH: "d", MAILTO_UNSUBSCRIBE: "u"}
_ADDRESS_PURPOSE_OF = {letter: purpose for purpose, letter in ADDRESS_PURPOSES.items()}
# Links emailed on request for one act on personal data: they expire after ``data_link_max_age``.
DATA_PURPOSES = (EXPORT, ERASE, CLICKS)

_URL_NAMES = {
    CONFIRM: "newsletter:confirm",
    PREFERENCES: "newsletter:preferences",
    UNSUBSCRIBE: "newsletter:unsubscribe",
    EXPORT: "newsletter:data_export",
    ERASE: "newsletter:data_erase",
    CLICKS: "newsletter:click_history",
}


class TokenError(Exception):
    """A link that cannot be used. ``reason`` is one of "expired", "invalid" or "superseded"."""

    reason = "invalid"


class TokenExpired(TokenError):
    reason = "expired"


class TokenInvalid(TokenError):
    """Tampered, truncated or made for another purpose."""

    reason = "invalid"


class TokenSuperseded(TokenError):
    """Correctly signed, but its subscriber is gone or has a new key (erased, or links rotated)."""

    reason = "superseded"


def confirm_max_age() -> int:
    """How long (seconds) a confirmation link stays valid."""
    return int(conf.NEWSLETTER_CONFIRM_TOKEN_MAX_AGE)


def data_link_max_age() -> int:
    """How long (seconds) an emailed export or erase link stays valid: one hour unless configured."""
    return int(conf.NEWSLETTER_DATA_TOKEN_MAX_AGE)


def make_token(subscriber, purpose: str) -> str:
    """A signed, URL-safe token for ``subscriber`` and ``purpose`` (timestamped, so it can expire)."""
    if purpose not in PURPOSES:
        raise ValueError(f"Unknown token purpose {purpose!r}")
    # As signing.dumps(..., salt=purpose), with the signing key derived once (a send signs links per recipient).
    return fast_signing.signer(purpose, timestamped=True).sign_object([subscriber.pk, subscriber.token_key])


def read_token(token: str, purpose: str, max_age: int | None = None):
    """Return the Subscriber a token belongs to, or raise a ``TokenError`` saying why it cannot be used."""
    from newsletter.models import Subscriber

    subscriber_id, key = _signed_payload(token, purpose, max_age)
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None or not isinstance(key, str) or subscriber.token_key != key:
        raise TokenSuperseded("This link is no longer valid.")
    return subscriber


def _signed_payload(token: str, purpose: str, max_age: int | None) -> list:
    """The [subscriber id, key] a token was signed with; ``TokenExpired`` or ``TokenInvalid`` if it cannot be used."""
    try:
        payload = signing.loads(token, salt=purpose, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise TokenExpired("This link has expired.") from exc
    except signing.BadSignature as exc:
        raise TokenInvalid("This link is not valid.") from exc
    if not _well_formed(payload):
        raise TokenInvalid("This link is not valid.")
    return payload


def _well_formed(payload) -> bool:
    """Whether a payload is [id, key] with a positive 64-bit id. Only a holder of the secret key can sign another
    shape; it is refused rather than let the query crash."""
    if not (isinstance(payload, list) and len(payload) == 2):
        return False
    subscriber_id = payload[0]
    # A JSON number that is an integer (``type``, not ``isinstance``: true and false are not ids).
    return type(subscriber_id) is int and 0 < subscriber_id < 2**63


def absolute_url(path: str) -> str:
    """``SITE_URL`` + path: links in emails must be absolute."""
    return settings.SITE_URL + path


_SLOT_MARK = "SLOT0MARK"


@functools.lru_cache(maxsize=64)
def _url_around_token(purpose: str, language: str | None, site_url: str, script_prefix: str) -> tuple[str, str]:
    """The absolute URL of ``purpose`` split where the token goes (resolved once: a send builds many links)."""
    url = site_url + reverse(_URL_NAMES[purpose], kwargs={"token": _SLOT_MARK})
    before, _, after = url.partition(_SLOT_MARK)
    return before, after


def url_for(subscriber, purpose: str) -> str:
    """The absolute URL of the page a token of ``purpose`` opens."""
    before, after = _url_around_token(purpose, translation.get_language(), settings.SITE_URL, get_script_prefix())
    return before + make_token(subscriber, purpose) + after


def confirm_url(subscriber) -> str:
    return url_for(subscriber, CONFIRM)


def preferences_url(subscriber) -> str:
    return url_for(subscriber, PREFERENCES)


def unsubscribe_url(subscriber) -> str:
    return url_for(subscriber, UNSUBSCRIBE)


# --- Address tokens ------------------------------------------------------------------------------------------------
#
# A token that travels inside an email address (``bounces+d2s-5f0c…@example.org``) must be short (a local part holds
# 64 characters at most), survive mail servers that change letter case, and use only characters every server
# accepts. So it is a purpose letter, the id in base 36 and 64 bits of a keyed HMAC in lower-case hex: about 20
# characters, with no expiry (a bounce may come back days later). A mailto token also covers the subscriber's
# ``token_key``, so rotating the subscriber's links (or erasing them) voids it like every other link.

_ADDRESS_TOKEN = re.compile(r"([du])([0-9a-z]{1,13})-([0-9a-f]{16})")
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(number: int) -> str:
    digits = ""
    while True:
        number, remainder = divmod(number, 36)
        digits = _BASE36[remainder] + digits
        if not number:
            return digits


def _address_mac(purpose: str, object_id: int, key: str = "") -> str:
    return fast_signing.salted_mac(purpose, f"{object_id}:{key}").hexdigest()[:16]


def make_address_token(purpose: str, object_id: int, key: str = "") -> str:
    """A short, case-insensitive token for an email address's local part (``d2s-5f0c…``)."""
    if purpose not in ADDRESS_PURPOSES:
        raise ValueError(f"Unknown address token purpose {purpose!r}")
    if not isinstance(object_id, int) or object_id <= 0:
        raise ValueError("An address token needs a positive id.")
    return f"{ADDRESS_PURPOSES[purpose]}{_base36(object_id)}-{_address_mac(purpose, object_id, key)}"


def find_address_tokens(text: str) -> list[tuple[str, int, str]]:
    """Every well-formed address token in ``text`` (any letter case) as (purpose, id, token), not yet verified."""
    found = []
    for match in _ADDRESS_TOKEN.finditer((text or "").lower()):
        letter, digits, _mac = match.groups()
        object_id = int(digits, 36)
        if 0 < object_id < 2**63:
            found.append((_ADDRESS_PURPOSE_OF[letter], object_id, match.group(0)))
    return found


def check_address_token(token: str, purpose: str, object_id: int, key: str = "") -> bool:
    """Whether ``token`` is the genuine address token of ``purpose`` for this id (and key)."""
    expected = make_address_token(purpose, object_id, key)
    return constant_time_compare(token.lower(), expected)


def return_path_token(delivery_id: int) -> str:
    return make_address_token(RETURN_PATH, delivery_id)


def mailto_unsubscribe_token(subscriber) -> str:
    return make_address_token(MAILTO_UNSUBSCRIBE, subscriber.pk, subscriber.token_key)
