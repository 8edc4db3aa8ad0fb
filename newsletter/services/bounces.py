"""Bounces and complaints: they suppress the address for every later send and show in the send's report.

Reported three ways: a hard bounce during SMTP delivery (an enhanced status code 5.1.x: the mailbox does not
exist), a provider's webhook, or Mailchimp's "cleaned" event.
"""

from __future__ import annotations

import re

from django.db.models.functions import Lower
from django.utils import timezone

from newsletter.models import Delivery, Subscriber

HARD_BOUNCE = re.compile(r"\b5\.1\.\d+\b")

BOUNCE = "bounce"
COMPLAINT = "complaint"


def is_hard_bounce(detail: str) -> bool:
    """An SMTP refusal that means the address itself is dead (5.1.x), not the message or the sender."""
    return bool(HARD_BOUNCE.search(detail or ""))


def record_bounce(email: str, kind: str = BOUNCE, *, send_id: int | None = None, detail: str = "") -> bool:
    """Suppress an address after a hard bounce or a spam complaint. Safe to repeat; False if unknown address."""
    if kind not in {BOUNCE, COMPLAINT}:
        raise ValueError(f"Unknown report kind {kind!r}")
    address = email.strip().lower()
    status = Subscriber.Status.CLEANED if kind == BOUNCE else Subscriber.Status.COMPLAINED
    now = timezone.now()
    updated = (
        Subscriber.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower=address)
        .exclude(status=status)
        .update(status=status, unsubscribed_at=now)
    )
    deliveries = Delivery.objects.filter(email=address, status=Delivery.Status.SENT)
    if send_id is not None:
        deliveries = deliveries.filter(send_id=send_id)
    latest = deliveries.order_by("-sent_at").first()
    if latest is not None:
        Delivery.objects.filter(pk=latest.pk).update(status=Delivery.Status.BOUNCED,
                                                     error=(detail or kind)[:1000])
    known = updated or Subscriber.objects.annotate(email_lower=Lower("email")).filter(email_lower=address).exists()
    return bool(known)
