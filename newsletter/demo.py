"""Demo subscribers (example.org addresses) so the admin listing, filters and dashboard panel have data."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from newsletter.models import ConsentRecord, Subscriber
from newsletter.services.subscriptions import CONSENT_TEXT, CONSENT_VERSION
from portal.core.models import Topic

DEMO_SUBSCRIBERS = [
    # (email, status, language, frequency, days ago, number of topics)
    ("analyst.demo@example.org", Subscriber.Status.SUBSCRIBED, "en", Subscriber.Frequency.EVERY_ISSUE, 40, 2),
    ("policy.demo@example.org", Subscriber.Status.SUBSCRIBED, "fr", Subscriber.Frequency.MONTHLY_DIGEST, 25, 1),
    ("educator.demo@example.org", Subscriber.Status.SUBSCRIBED, "de", Subscriber.Frequency.EVERY_ISSUE, 12, 0),
    ("waiting.demo@example.org", Subscriber.Status.PENDING, "en", Subscriber.Frequency.EVERY_ISSUE, 1, 1),
    ("left.demo@example.org", Subscriber.Status.UNSUBSCRIBED, "nl", Subscriber.Frequency.EVERY_ISSUE, 60, 0),
]


def seed(stdout) -> None:
    """Create the demo subscribers with their consent history. Running it again changes nothing."""
    topics = list(Topic.objects.order_by("name")[:2])
    now = timezone.now()
    created = 0
    with transaction.atomic():
        for email, status, language, frequency, days_ago, topic_count in DEMO_SUBSCRIBERS:
            if Subscriber.objects.for_email(email).exists():
                continue
            when = now - timedelta(days=days_ago)
            subscriber = Subscriber.objects.create(
                email=email, status=status, language=language, frequency=frequency, source=Subscriber.Source.DEMO,
                created_at=when, requested_at=when, confirmation_sent_at=when,
                confirmed_at=when + timedelta(minutes=5) if status != Subscriber.Status.PENDING else None,
                unsubscribed_at=now - timedelta(days=3) if status == Subscriber.Status.UNSUBSCRIBED else None,
            )
            subscriber.topics.set(topics[:topic_count])
            consent = {"consent_text": CONSENT_TEXT, "consent_version": CONSENT_VERSION, "form": "demo",
                       "user_agent_family": "Firefox"}
            ConsentRecord.objects.create(subscriber=subscriber, event=ConsentRecord.Event.GIVEN, created_at=when,
                                         **consent)
            if subscriber.confirmed_at:
                ConsentRecord.objects.create(subscriber=subscriber, event=ConsentRecord.Event.CONFIRMED,
                                             created_at=subscriber.confirmed_at, **consent)
            if subscriber.unsubscribed_at:
                ConsentRecord.objects.create(subscriber=subscriber, event=ConsentRecord.Event.WITHDRAWN,
                                             created_at=subscriber.unsubscribed_at, form="demo")
            created += 1
    stdout.write(f"Newsletter: {created} demo subscribers created ({len(DEMO_SUBSCRIBERS) - created} already there).\n")
