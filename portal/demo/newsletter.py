"""Demo subscribers (example.org addresses) so the admin listing, filters and dashboard panel have data."""

from __future__ import annotations

import json
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from newsletter.models import Audience, ConsentRecord, NewsletterIndexPage, NewsletterIssue, Subscriber
from newsletter.services.subscriptions import CONSENT_TEXT, CONSENT_VERSION
from portal.core.models import Topic
from portal.pages.models import ArticlePage, HomePage

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
            _consent_history(subscriber)
            created += 1
    stdout.write(f"Newsletter: {created} demo subscribers created ({len(DEMO_SUBSCRIBERS) - created} already there).\n")
    seed_archive(stdout)


def _consent_history(subscriber: Subscriber) -> None:
    """The consent records of a demo subscriber: given, then confirmed and withdrawn when they did."""
    consent = {"consent_text": CONSENT_TEXT, "consent_version": CONSENT_VERSION, "form": "demo",
               "user_agent_family": "Firefox"}
    history = [
        (ConsentRecord.Event.GIVEN, subscriber.created_at, consent),
        (ConsentRecord.Event.CONFIRMED, subscriber.confirmed_at, consent),
        (ConsentRecord.Event.WITHDRAWN, subscriber.unsubscribed_at, {"form": "demo"}),
    ]
    for event, when, fields in history:
        if when:
            ConsentRecord.objects.create(subscriber=subscriber, event=event, created_at=when, **fields)


def practice_form_url() -> str:
    """Where the newsletter's "share a practice" call to action leads: the members' area form."""
    return settings.SITE_URL + reverse("contributions:practice_new")


def seed_archive(stdout) -> None:
    """The newsletter archive under the home page and one published (not sent) issue. Idempotent."""
    home = HomePage.objects.first()
    if home is None:
        return
    archive = NewsletterIndexPage.objects.first() or _archive(home)
    if NewsletterIssue.objects.filter(slug="prevention-and-takedown-2015").exists():
        stdout.write("Newsletter: archive and sample issue already there.\n")
        return
    articles = list(ArticlePage.objects.live().public().order_by("-date")[:2])
    blocks = [{"type": "text", "value": "<p>This issue brings together what the network learned about "
                                        "prevention and fast removal of reported content.</p>"}]
    blocks += [{"type": "featured_page", "value": {"page": article.pk, "summary": "",
                                                    "button_label": "Read on the portal"}} for article in articles]
    blocks.append({"type": "call_to_action", "value": {
        "text": "Does your hotline have a practice worth sharing with the network?",
        "button_label": "Tell the editors", "page": None, "url": practice_form_url()}})
    issue = NewsletterIssue(
        title="Prevention and takedown: what worked in 2015", slug="prevention-and-takedown-2015",
        subject="Prevention and takedown: what worked in 2015",
        preheader="Lessons from The Hague and from hotlines' work with industry.",
        intro="<p>Welcome to the network's newsletter.</p>", audience=Audience.PUBLIC, body=json.dumps(blocks),
    )
    archive.add_child(instance=issue)
    issue.save_revision().publish()
    stdout.write("Newsletter: archive and a sample issue created (send it from the admin).\n")


def _archive(home: HomePage) -> NewsletterIndexPage:
    """Create and publish the newsletter archive under the home page (out of the menu)."""
    archive = NewsletterIndexPage(
        title="Newsletter", slug="newsletter", show_in_menus=False,
        intro="<p>Past issues of the network's newsletter. Subscribe to receive the next one.</p>",
    )
    home.add_child(instance=archive)
    archive.save_revision().publish()
    return archive
