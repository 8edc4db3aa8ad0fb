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

from django.conf import settings
from django.core import signing
from django.urls import get_script_prefix, reverse
from django.utils import translation

CONFIRM = "newsletter.confirm"
PREFERENCES = "newsletter.preferences"
UNSUBSCRIBE = "newsletter.unsubscribe"
EXPORT = "newsletter.export"
ERASE = "newsletter.erase"
PURPOSES = (CONFIRM, PREFERENCES, UNSUBSCRIBE, EXPORT, ERASE)
# Links emailed on request for one act on personal data: they expire after ``data_link_max_age``.
DATA_PURPOSES = (EXPORT, ERASE)

_URL_NAMES = {
    CONFIRM: "newsletter:confirm",
    PREFERENCES: "newsletter:preferences",
    UNSUBSCRIBE: "newsletter:unsubscribe",
    EXPORT: "newsletter:data_export",
    ERASE: "newsletter:data_erase",
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
    return int(getattr(settings, "NEWSLETTER_CONFIRM_TOKEN_MAX_AGE", 3 * 24 * 3600))


def data_link_max_age() -> int:
    """How long (seconds) an emailed export or erase link stays valid: one hour unless configured."""
    return int(getattr(settings, "NEWSLETTER_DATA_TOKEN_MAX_AGE", 3600))


def make_token(subscriber, purpose: str) -> str:
    """A signed, URL-safe token for ``subscriber`` and ``purpose`` (timestamped, so it can expire)."""
    if purpose not in PURPOSES:
        raise ValueError(f"Unknown token purpose {purpose!r}")
    return signing.dumps([subscriber.pk, subscriber.token_key], salt=purpose)


def read_token(token: str, purpose: str, max_age: int | None = None):
    """Return the Subscriber a token belongs to, or raise a ``TokenError`` saying why it cannot be used."""
    from newsletter.models import Subscriber

    try:
        payload = signing.loads(token, salt=purpose, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise TokenExpired("This link has expired.") from exc
    except signing.BadSignature as exc:
        raise TokenInvalid("This link is not valid.") from exc
    if not (isinstance(payload, list) and len(payload) == 2):
        raise TokenInvalid("This link is not valid.")
    subscriber_id, key = payload
    # Only a holder of the secret key can sign another shape; refuse it rather than let the query crash.
    if not isinstance(subscriber_id, int) or isinstance(subscriber_id, bool) or not 0 < subscriber_id < 2**63:
        raise TokenInvalid("This link is not valid.")
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None or not isinstance(key, str) or subscriber.token_key != key:
        raise TokenSuperseded("This link is no longer valid.")
    return subscriber


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
