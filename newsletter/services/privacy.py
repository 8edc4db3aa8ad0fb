"""Personal data: keyed hashes (IP, address), the subscriber's data export, and erasure.

Hashes use HMAC-SHA256 keyed with ``NEWSLETTER_HASH_SECRET`` (default: ``SECRET_KEY``). Set the former
explicitly before ever rotating ``SECRET_KEY``, or suppressed addresses will no longer be recognised.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from wagtail.log_actions import log
from wagtail.models import ModelLogEntry

from newsletter import email_tasks
from newsletter.conf import conf
from newsletter.services import engagement

ERASE_ACTION = "newsletter.subscriber.erase"
EXPORT_ACTION = "newsletter.subscriber.export"


def _secret() -> str:
    return conf.NEWSLETTER_HASH_SECRET or settings.SECRET_KEY


def hash_value(purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` keyed by the hash secret and ``purpose`` (hex, 64 characters)."""
    return salted_hmac(f"newsletter.{purpose}", value, secret=_secret(), algorithm="sha256").hexdigest()


def hash_ip(ip: str) -> str:
    """The stored form of an IP address (empty when unknown)."""
    return hash_value("ip", ip.strip()) if ip else ""


def hash_email(email: str) -> str:
    """The stored form of an erased or suppressed address (of its lowercased form)."""
    return hash_value("email", email.strip().lower())


_UA_FAMILIES = [
    (re.compile(r"bot|crawl|spider|curl|wget|python|httpclient|java/|go-http", re.I), "Bot or script"),
    (re.compile(r"Edg(e|A|iOS)?/"), "Edge"),
    (re.compile(r"OPR/|Opera"), "Opera"),
    (re.compile(r"SamsungBrowser/"), "Samsung Internet"),
    (re.compile(r"Firefox/|FxiOS/"), "Firefox"),
    (re.compile(r"Chrome/|CriOS/|Chromium/"), "Chrome"),
    (re.compile(r"Safari/"), "Safari"),
]


def user_agent_family(user_agent: str) -> str:
    """The browser family of a User-Agent string ("Firefox", "Chrome", ...); the raw string is never kept."""
    if not user_agent:
        return ""
    for pattern, family in _UA_FAMILIES:
        if pattern.search(user_agent):
            return family
    return "Other"


def export_subscriber_data(subscriber) -> dict:
    """Everything held about a subscriber, consent history included, as JSON-ready data."""
    return {
        "email": subscriber.email,
        "status": subscriber.status,
        "language": subscriber.language,
        "frequency": subscriber.frequency,
        "topics": sorted(topic.name for topic in subscriber.topics.all()),
        "source": subscriber.source,
        "member_account": subscriber.user.get_username() if subscriber.user_id else None,
        "created_at": _iso(subscriber.created_at),
        "latest_signup_request_at": _iso(subscriber.requested_at),
        "confirmation_sent_at": _iso(subscriber.confirmation_sent_at),
        "confirmed_at": _iso(subscriber.confirmed_at),
        "unsubscribed_at": _iso(subscriber.unsubscribed_at),
        "consent_history": _consent_history(subscriber),
        # What came back about the mail sent to them: bounces, complaints, unsubscribes by mail or at a provider.
        "delivery_reports": _delivery_reports(subscriber),
        "click_history_on": subscriber.click_history,
        "click_history": engagement.click_history(subscriber),
        "exported_at": timezone.now().isoformat(),
    }


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _consent_history(subscriber) -> list[dict]:
    """Every consent record of the subscriber, oldest first."""
    consents = subscriber.consents.select_related("actor").order_by("created_at", "id")
    return [
        {
            "event": record.event,
            "at": _iso(record.created_at),
            "form": record.form,
            "consent_version": record.consent_version,
            "consent_text": record.consent_text,
            "basis": record.basis,
            "ip_address_hash": record.ip_hash,
            "browser_family": record.user_agent_family,
            "recorded_by_staff": record.actor_id is not None,
        }
        for record in consents
    ]


def _delivery_reports(subscriber) -> list[dict]:
    """The bounces, complaints and unsubscribes that came back about mail sent to the subscriber, oldest first."""
    from newsletter.models import InboundEvent

    return [
        {"kind": kind, "channel": source, "status_code": code, "at": _iso(created)}
        for kind, source, code, created in InboundEvent.objects.filter(subscriber=subscriber)
        .order_by("created_at", "id").values_list("kind", "source", "status_code", "created_at")
    ]


def request_link(subscriber, purpose: str):
    """Queue an email with a fresh link of ``purpose`` to the subscriber's own address.

    Returns ``ratelimit.Throttled`` instead when this address was sent too many links lately (a holder of a
    forwarded link must not be able to flood the inbox), else None.
    """
    from newsletter.services import ratelimit

    rate = conf.NEWSLETTER_RATE_LIMIT_LINKS
    throttled = ratelimit.hit("link", str(subscriber.pk), rate)
    if throttled:
        return throttled
    subscriber_id = subscriber.pk
    transaction.on_commit(lambda: email_tasks.send_link_email.delay(subscriber_id, purpose))
    return None


def record_self_export(subscriber) -> None:
    """Audit-log that the subscriber downloaded their own data through an emailed export link."""
    log(subscriber, EXPORT_ACTION, title=f"Subscriber #{subscriber.pk}", data={"via": "emailed link"})


def record_staff_export(subscriber, user) -> None:
    """Audit-log that a staff member exported this subscriber's data (the label never holds the address)."""
    log(subscriber, EXPORT_ACTION, user=user, title=f"Subscriber #{subscriber.pk}")


def erase_subscriber(subscriber, *, actor=None, via: str = "preferences"):
    """Erase a subscriber: keep only a keyed hash of the address (to honour the opt-out), delete the rest.

    Consent records (with their IP hashes) and topic choices go with the row. Earlier audit-log labels that
    named the address are rewritten. Returns the ``SuppressedAddress``. Logged with who did it.
    """
    from newsletter.models import Subscriber, SuppressedAddress

    with transaction.atomic():
        suppression, _ = SuppressedAddress.objects.get_or_create(
            email_hash=hash_email(subscriber.email), defaults={"reason": SuppressedAddress.Reason.ERASED}
        )
        subscriber_id = subscriber.pk
        ModelLogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Subscriber), object_id=str(subscriber_id)
        ).update(label=f"Subscriber #{subscriber_id} (erased)")
        subscriber.delete()
        log(suppression, ERASE_ACTION, user=actor, data={"via": via, "subscriber_id": subscriber_id})
    return suppression


def is_suppressed(email: str) -> bool:
    """Whether an address is on the suppression list (erased, complained or bounced)."""
    from newsletter.models import SuppressedAddress

    return SuppressedAddress.objects.filter(email_hash=hash_email(email)).exists()
