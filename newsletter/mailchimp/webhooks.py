"""Mailchimp's list webhooks: ``/newsletter/webhooks/mailchimp/<MAILCHIMP_WEBHOOK_SECRET>/``.

Mailchimp does not sign its webhooks, so the secret in the URL is the only proof of origin: it is compared
in constant time, a wrong one gets 403 and changes nothing, and without a configured secret the endpoint
does not exist. Mailchimp checks the URL with a GET when the webhook is registered: that answers 200.

A POST (form-encoded: ``type``, ``fired_at``, ``data[email]``, ``data[merges][...]``...) is only checked and
queued; a Celery task applies it through the subscription services, so consent records and the audit trail
stay right, and the answer goes back at once. Every event is idempotent: replaying one changes nothing more.

The event's own ``fired_at`` is not trusted blindly (anyone holding the secret writes it): an event dated in
the future beyond ``MAILCHIMP_WEBHOOK_CLOCK_SKEW`` seconds, or older than the last Mailchimp change applied
to that subscriber, is ignored. An address change never moves a subscription: the new address is sent a
confirmation, as a signup is, and the old subscription stays as it was.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from newsletter.conf import conf
from newsletter.mailchimp.sync import apply_remote_status, stamp_to_datetime
from newsletter.models import MailchimpMember, Subscriber
from newsletter.services import bounces, subscriptions
from portal.core.models import Topic

logger = logging.getLogger(__name__)

EVENTS = {"subscribe", "unsubscribe", "profile", "upemail", "cleaned"}
MAX_FIELDS = 200


# --- Processing (in the Celery task) ----------------------------------------------------------------------------


def _find(email: str) -> Subscriber | None:
    if not email:
        return None
    return Subscriber.objects.annotate(lower=Lower("email")).filter(lower=email.strip().lower()).first()


def _fired_at(payload: dict) -> datetime:
    """When Mailchimp says the event happened (its times without a zone are UTC); now if it does not say."""
    return stamp_to_datetime(payload.get("fired_at")) or timezone.now()


def _clock_skew() -> timedelta:
    return timedelta(seconds=int(conf.MAILCHIMP_WEBHOOK_CLOCK_SKEW))


def _is_stale(subscriber: Subscriber | None, when: datetime) -> bool:
    """Whether a change newer than ``when`` was already applied from Mailchimp to this subscriber."""
    if subscriber is None:
        return False
    last = MailchimpMember.objects.filter(subscriber=subscriber).values_list("remote_changed_at", flat=True).first()
    return last is not None and when < last


def _remember(subscriber: Subscriber, email: str, status: str, when: datetime) -> None:
    """Record Mailchimp's view of this member so the next push neither echoes nor contradicts it."""
    MailchimpMember.objects.update_or_create(
        subscriber=subscriber, defaults={"email": email, "remote_status": status, "remote_changed_at": when})


def handle_event(payload: dict) -> str:
    """Apply one Mailchimp webhook event. Returns what was done (for logs and tests)."""
    when = _fired_at(payload)
    skipped = _skip_reason(payload, when)
    if skipped:
        return skipped
    with transaction.atomic():
        return _apply_event(payload, when)


def _skip_reason(payload: dict, when: datetime) -> str:
    """Why an event is left alone before reading it: another audience's, or dated in the future; else ""."""
    audience = conf.MAILCHIMP_AUDIENCE_ID
    if audience and payload.get("data[list_id]") and payload["data[list_id]"] != audience:
        return "other audience"
    if when > timezone.now() + _clock_skew():
        logger.warning("Mailchimp webhook event dated in the future (%s) ignored", when.isoformat())
        return "ignored: dated in the future"
    return ""


def _apply_event(payload: dict, when: datetime) -> str:
    kind = payload.get("type", "")
    if kind == "upemail":
        return _change_email(payload.get("data[old_email]", ""), payload.get("data[new_email]", ""), when)
    email = (payload.get("data[email]") or "").strip()
    subscriber = _find(email)
    if _is_stale(subscriber, when):
        return "ignored: older than the last change applied"
    if kind == "subscribe":
        return _on_subscribe(subscriber, email, when)
    if subscriber is None:
        return "unknown address"
    return _HANDLERS.get(kind, _on_other)(subscriber, email, payload, when)


def _on_subscribe(subscriber: Subscriber | None, email: str, when) -> str:
    """Subscribed in Mailchimp: an address we do not know is imported (with its consent basis)."""
    if subscriber is None:
        return _import_subscribed(email, when)
    changed = apply_remote_status(subscriber, "subscribed", when)
    _remember(subscriber, email, "subscribed", when)
    return "subscribed" if changed else "unchanged"


def _import_subscribed(email: str, when: datetime) -> str:
    report = subscriptions.import_subscribers(
        [(0, email)], basis="Subscribed through Mailchimp (list webhook).", actor=None)
    subscriber = _find(email)
    if subscriber is None:
        return f"not added: {report.skipped[0][2] if report.skipped else 'invalid'}"
    _remember(subscriber, email, "subscribed", when)
    return "added"


def _on_unsubscribe(subscriber: Subscriber, email: str, payload: dict, when) -> str:
    changed = apply_remote_status(subscriber, "unsubscribed", when)
    _remember(subscriber, email, "unsubscribed", when)
    return "unsubscribed" if changed else "unchanged"


def _on_cleaned(subscriber: Subscriber, email: str, payload: dict, when) -> str:
    """Cleaned by Mailchimp: an abuse report is a complaint; anything else Mailchimp's own cleaning."""
    if payload.get("data[reason]") == "abuse":
        changed = subscriber.status != Subscriber.Status.COMPLAINED
        bounces.record_bounce(email, bounces.COMPLAINT, detail="Mailchimp: abuse report")
    else:
        changed = apply_remote_status(subscriber, "cleaned", when)
    _remember(subscriber, email, "cleaned", when)
    return "cleaned" if changed else "unchanged"


def _on_profile(subscriber: Subscriber, email: str, payload: dict, when) -> str:
    return _update_profile(subscriber, payload)


def _on_other(subscriber: Subscriber, email: str, payload: dict, when) -> str:
    return "ignored"


def _update_profile(subscriber: Subscriber, payload: dict) -> str:
    """Topics (Mailchimp interests, by name) and frequency from a profile update made in Mailchimp."""
    topics = _topics_from(payload, subscriber)
    frequency = _frequency_from(payload, subscriber)
    if {t.pk for t in topics} == set(subscriber.topics.values_list("pk", flat=True)) and (
            frequency == subscriber.frequency):
        return "unchanged"
    subscriptions.update_preferences(subscriber, topics=topics, frequency=frequency, language=subscriber.language)
    return "profile updated"


def _topics_from(payload: dict, subscriber: Subscriber) -> list:
    """The topics named by the event's interests (comma-separated names); the subscriber's own when it has none."""
    interests = payload.get("data[merges][INTERESTS]")
    if interests is None:
        return list(subscriber.topics.all())
    names = {name.strip() for name in interests.split(",")} - {""}
    return list(Topic.objects.filter(name__in=names))


def _frequency_from(payload: dict, subscriber: Subscriber) -> str:
    """The event's frequency if it is one of ours, else the subscriber's own."""
    frequency = payload.get("data[merges][FREQUENCY]")
    return frequency if frequency in Subscriber.Frequency.values else subscriber.frequency


def _change_email(old: str, new: str, when: datetime) -> str:
    """Mailchimp changed a member's address: never move the subscription to an address that has not confirmed.

    The new address gets a confirmation email, as a signup does (same topics, language and frequency); the old
    subscription stays as it is until its owner leaves.
    """
    subscriber = _find(old)
    if subscriber is None:
        return "unchanged" if _find(new) else "unknown address"
    if not new or _find(new) is not None:
        return "new address already known"
    if _is_stale(subscriber, when):
        return "ignored: older than the last change applied"
    if not _is_email(new.strip()):
        return "invalid new address"
    subscriptions.request_subscription(
        new, topics=list(subscriber.topics.all()), language=subscriber.language, frequency=subscriber.frequency,
        source=Subscriber.Source.IMPORT,
    )
    logger.info("Mailchimp changed subscriber %s's address: confirmation sent to the new one", subscriber.pk)
    return "confirmation sent to the new address"


def _is_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


# What each event does to a subscriber we know ("subscribe" and "upemail" are handled before).
_HANDLERS = {"unsubscribe": _on_unsubscribe, "cleaned": _on_cleaned, "profile": _on_profile}
