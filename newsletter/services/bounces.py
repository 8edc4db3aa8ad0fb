"""What comes back about the mail we sent, from any channel, and what it does to the subscriber.

Every channel reports here through :func:`record`, so the rules are the same whichever way a report arrives:

- a refusal while sending (``dispatch``: the receiving server said 5xx during the SMTP conversation, or a 4xx
  until the attempts ran out);
- the bounce mailbox (``newsletter.services.mailbox``: delivery status notifications, feedback-loop complaints and
  mails to the ``List-Unsubscribe`` mailto address);
- the providers' tracking webhooks (``newsletter.anymail_events``, through django-anymail);
- Mailchimp's "cleaned" and "abuse" events (``record_bounce``).

The rules: a hard bounce (the address is dead) cleans the address at once; soft bounces (mailbox full, the
message refused, a server that kept deferring) clean it once ``NEWSLETTER_SOFT_BOUNCE_LIMIT`` of them arrived
within ``NEWSLETTER_SOFT_BOUNCE_DAYS``; a complaint marks the address complained, never mailed again; an
unsubscribe by mail (or at the provider) unsubscribes with a consent record. Each report is an ``InboundEvent``
with a key, so a report read twice counts once.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from newsletter.conf import conf
from newsletter.models import ConsentRecord, Delivery, InboundEvent, Subscriber

Kind = InboundEvent.Kind
Source = InboundEvent.Source

HARD_BOUNCE = re.compile(r"\b5\.1\.\d+\b")
STATUS_CODE = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_ADDRESS = re.compile(r"[^\s<>\"'(),;:\[\]]+@[^\s<>\"'(),;:\[\]]+\.[A-Za-z0-9-]+")

# Kept for the Mailchimp code, which reports a bounce or a complaint by address.
BOUNCE = "bounce"
COMPLAINT = "complaint"

# Permanent failures that say nothing about the address itself (the message was too big, refused as spam, our
# sender blocked, the mailbox full): counted as soft bounces, so one bad day does not clean a good address.
_SOFT_PERMANENT = {("2", "2"), ("3", "4")}  # 5.2.2 mailbox full, 5.3.4 message too big


def soft_bounce_limit() -> int:
    return max(1, int(conf.NEWSLETTER_SOFT_BOUNCE_LIMIT))


def soft_bounce_window() -> timedelta:
    return timedelta(days=int(conf.NEWSLETTER_SOFT_BOUNCE_DAYS))


def is_hard_bounce(detail: str) -> bool:
    """An SMTP refusal that means the address itself is dead (5.1.x), not the message or the sender."""
    return bool(HARD_BOUNCE.search(detail or ""))


def status_code(text: str) -> str:
    """The first enhanced status code (RFC 3463, ``5.1.1``) in ``text``, or ""."""
    found = STATUS_CODE.search(text or "")
    return found.group(0) if found else ""


def classify(code: str, *, permanent: bool | None = None) -> str:
    """Hard or soft bounce for an enhanced status code (``permanent``: what the reporter said when it has no code).

    5.x.x failures are hard unless they are about the message or the sender rather than the address (5.2.2
    mailbox full, 5.3.4 too big, 5.7.x policy or reputation); 4.x.x are soft.
    """
    found = STATUS_CODE.fullmatch(code or "")
    if found:
        return _kind_of_code(*found.groups())
    return Kind.HARD_BOUNCE if permanent else Kind.SOFT_BOUNCE


def _kind_of_code(klass: str, subject: str, detail: str) -> str:
    soft = klass != "5" or subject == "7" or (subject, detail) in _SOFT_PERMANENT
    return Kind.SOFT_BOUNCE if soft else Kind.HARD_BOUNCE


def scrub(detail: str, *addresses: str) -> str:
    """The detail without any email address in it (a diagnostic usually quotes the recipient's)."""
    text = detail or ""
    for address in addresses:
        if address:
            text = re.sub(re.escape(address), "<recipient>", text, flags=re.IGNORECASE)
    return _ADDRESS.sub("<address>", text)[:500]


@dataclass(frozen=True)
class Report:
    """One report about one recipient, as a channel understood it.

    The recipient is named by the strongest evidence the channel has: a delivery (from a return-path token),
    a subscriber (from a mailto token), else the address the report quotes (``email``, with ``send_id`` when
    the provider knows the send).
    """

    kind: str
    source: str
    key: str = ""
    delivery_id: int | None = None
    subscriber_id: int | None = None
    email: str = ""
    send_id: int | None = None
    status_code: str = ""
    detail: str = ""


# What ``record`` answers.
RECORDED = "recorded"
DUPLICATE = "duplicate"
UNKNOWN = "unknown"


NOISE = (Kind.IGNORED, Kind.UNREADABLE)
BOUNCE_KINDS = (Kind.HARD_BOUNCE, Kind.SOFT_BOUNCE)
LIVE = (Subscriber.Status.SUBSCRIBED, Subscriber.Status.PENDING)


def _resolve(report: Report) -> tuple[Delivery | None, Subscriber | None] | None:
    """The delivery and subscriber a report is about; (None, None) for mailbox noise, None if it names no one."""
    if report.kind in NOISE:
        return None, None
    delivery = _delivery_for(report)
    subscriber = _subscriber_for(report, delivery)
    if subscriber is None and delivery is None:
        return None
    return delivery, subscriber


def _delivery_for(report: Report) -> Delivery | None:
    """The delivery its token names, else the latest delivery that went out to the address it quotes."""
    delivery = Delivery.objects.filter(pk=report.delivery_id).first() if report.delivery_id else None
    if delivery is None and report.email:
        delivery = _latest_delivery_to(report.email, report.send_id)
    return delivery


def _latest_delivery_to(email: str, send_id: int | None) -> Delivery | None:
    deliveries = Delivery.objects.filter(email=email.strip().lower()).exclude(
        status__in=[Delivery.Status.QUEUED, Delivery.Status.SENDING, Delivery.Status.SUPPRESSED])
    if send_id is not None:
        deliveries = deliveries.filter(send_id=send_id)
    return deliveries.order_by("-sent_at", "-id").first()


def _subscriber_for(report: Report, delivery: Delivery | None) -> Subscriber | None:
    """The subscriber its token names, else the delivery's, else the one with the address it quotes."""
    subscriber_id = report.subscriber_id or (delivery.subscriber_id if delivery is not None else None)
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first() if subscriber_id else None
    if subscriber is None and report.email:
        subscriber = _subscriber_with_address(report.email)
    return subscriber


def _subscriber_with_address(email: str) -> Subscriber | None:
    """The subscriber with this address, in any case."""
    return Subscriber.objects.annotate(email_lower=Lower("email")).filter(email_lower=email.strip().lower()).first()


def _seen(report: Report) -> bool:
    """Whether a report with this key was recorded already (a report without a key is never recognised)."""
    return bool(report.key) and InboundEvent.objects.filter(key=report.key[:255]).exists()


def record(report: Report) -> str:
    """Record one report and act on it. Returns ``RECORDED``, ``DUPLICATE`` (its key was seen) or ``UNKNOWN``.

    Bounce mailbox noise (``IGNORED``, ``UNREADABLE``) is recorded too, without a subscriber, so it is counted
    and a message read twice is recognised.
    """
    if report.kind not in Kind.values:
        raise ValueError(f"Unknown report kind {report.kind!r}")
    if _seen(report):
        return DUPLICATE
    resolved = _resolve(report)
    if resolved is None:
        return UNKNOWN
    return _record_resolved(report, *resolved)


def _record_resolved(report: Report, delivery: Delivery | None, subscriber: Subscriber | None) -> str:
    """The event and what it does, in one transaction; ``DUPLICATE`` when a concurrent reader recorded it first."""
    try:
        with transaction.atomic():
            now = _store_event(report, delivery, subscriber)
            _act(report, delivery, subscriber, now)
    except IntegrityError:
        if _seen(report):
            return DUPLICATE  # the same report, recorded by a concurrent reader
        raise
    return RECORDED


def _known_address(report: Report, delivery: Delivery | None, subscriber: Subscriber | None) -> str:
    return (delivery.email if delivery else "") or (subscriber.email if subscriber else "") or report.email


def _store_event(report: Report, delivery: Delivery | None, subscriber: Subscriber | None):
    """The report's row, its detail without the address; returns when it was recorded."""
    now = timezone.now()
    InboundEvent.objects.create(
        key=report.key[:255] or None, kind=report.kind, source=report.source, subscriber=subscriber,
        delivery=delivery, status_code=report.status_code[:12],
        detail=scrub(report.detail, _known_address(report, delivery, subscriber), report.email), created_at=now,
    )
    return now


def _act(report: Report, delivery: Delivery | None, subscriber: Subscriber | None, now) -> None:
    if report.kind in BOUNCE_KINDS and delivery is not None:
        _mark_bounced(report, delivery)
    action = SUBSCRIBER_ACTIONS.get(report.kind)
    if subscriber is not None and action is not None:
        action(report, subscriber, now)


def _mark_bounced(report: Report, delivery: Delivery) -> None:
    """A message the server had accepted came back: it did not arrive. (A refusal while sending is already
    marked failed by the sending work.)"""
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENT).update(
        status=Delivery.Status.BOUNCED, error=scrub(report.detail or report.kind, delivery.email)[:1000])


def _clean(report: Report, subscriber: Subscriber, now) -> None:
    _set_status(subscriber, LIVE, Subscriber.Status.CLEANED, now)


def _count_soft_bounce(report: Report, subscriber: Subscriber, now) -> None:
    """Cleaned once the soft bounce limit is reached within the window (this report is counted already)."""
    recent = InboundEvent.objects.filter(subscriber=subscriber, kind=Kind.SOFT_BOUNCE,
                                         created_at__gte=now - soft_bounce_window()).count()
    if recent >= soft_bounce_limit():
        _clean(report, subscriber, now)


def _complain(report: Report, subscriber: Subscriber, now) -> None:
    # Never mailed again, whatever the address's state was (a complaint outranks an unsubscribe or a bounce).
    if _set_status(subscriber, [*LIVE, Subscriber.Status.UNSUBSCRIBED, Subscriber.Status.CLEANED],
                   Subscriber.Status.COMPLAINED, now) and subscriber.status in LIVE:
        _withdraw(subscriber, f"complaint ({report.source})")


def _unsubscribe(report: Report, subscriber: Subscriber, now) -> None:
    if _set_status(subscriber, LIVE, Subscriber.Status.UNSUBSCRIBED, now):
        _withdraw(subscriber, "mailto" if report.source == Source.MAILBOX else f"unsubscribe ({report.source})")


# What each kind of report does to its subscriber.
SUBSCRIBER_ACTIONS = {
    Kind.HARD_BOUNCE: _clean,
    Kind.SOFT_BOUNCE: _count_soft_bounce,
    Kind.COMPLAINT: _complain,
    Kind.UNSUBSCRIBE: _unsubscribe,
}


def _set_status(subscriber: Subscriber, from_statuses, status: str, now) -> bool:
    changed = Subscriber.objects.filter(pk=subscriber.pk, status__in=from_statuses).update(
        status=status, unsubscribed_at=now, status_before_signup="")
    return bool(changed)


def _withdraw(subscriber: Subscriber, form: str) -> None:
    ConsentRecord.objects.create(subscriber=subscriber, event=ConsentRecord.Event.WITHDRAWN, form=form[:40])


def record_refusal(delivery_id: int, detail: str, *, permanent: bool, attempt: int) -> str:
    """A refusal during the SMTP conversation (5xx, or 4xx on the last attempt), for the sending work."""
    code, kind = _refusal_code_and_kind(detail, permanent)
    return record(Report(kind=kind, source=Source.SMTP, key=f"smtp:{delivery_id}:{attempt}",
                         delivery_id=delivery_id, status_code=code, detail=detail))


def _refusal_code_and_kind(detail: str, permanent: bool) -> tuple[str, str]:
    code = status_code(detail)
    if code:
        return code, classify(code, permanent=permanent)
    if permanent and is_hard_bounce(detail):
        return "5.1.0", Kind.HARD_BOUNCE
    # A bare 5xx without an enhanced code: the address may be fine (content, policy); count it as soft. A 4xx
    # without one is soft anyway.
    return "", Kind.SOFT_BOUNCE


def record_bounce(email: str, kind: str = BOUNCE, *, send_id: int | None = None, detail: str = "",
                  source: str = Source.MAILCHIMP, key: str = "") -> bool:
    """Suppress an address after a hard bounce or a spam complaint reported by address. False if unknown."""
    if kind not in {BOUNCE, COMPLAINT}:
        raise ValueError(f"Unknown report kind {kind!r}")
    outcome = record(Report(kind=Kind.HARD_BOUNCE if kind == BOUNCE else Kind.COMPLAINT, source=source, key=key,
                            email=email, send_id=send_id, detail=detail))
    return outcome != UNKNOWN


# The kinds of report a send's figures count, under their names there.
FIGURES = {Kind.HARD_BOUNCE: "hard_bounces", Kind.SOFT_BOUNCE: "soft_bounces", Kind.COMPLAINT: "complaints",
           Kind.UNSUBSCRIBE: "unsubscribes"}


def figures(send) -> dict[str, int]:
    """What came back about one send, by kind (for its report)."""
    found = Counter(InboundEvent.objects.filter(delivery__send=send, kind__in=FIGURES).values_list("kind", flat=True))
    return {name: found[kind] for kind, name in FIGURES.items()}
