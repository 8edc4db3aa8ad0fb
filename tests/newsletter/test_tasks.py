"""The periodic cleanup of unconfirmed signups, and the email tasks' guards."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

import pytest

from newsletter import tasks
from newsletter.models import Subscriber
from tests.newsletter.factories import ConsentRecordFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


def days_ago(days: float):
    return timezone.now() - timedelta(days=days)


def test_cleanup_deletes_only_stale_pending_signups(settings):
    settings.NEWSLETTER_PENDING_MAX_AGE_DAYS = 30
    stale = SubscriberFactory(status="pending", created_at=days_ago(45), requested_at=days_ago(31))
    ConsentRecordFactory(subscriber=stale)
    fresh = SubscriberFactory(status="pending", created_at=days_ago(29), requested_at=days_ago(29))
    old_subscriber = SubscriberFactory(status="subscribed", created_at=days_ago(400), requested_at=days_ago(400))
    old_unsubscribed = SubscriberFactory(status="unsubscribed", created_at=days_ago(400), requested_at=days_ago(400))
    # Someone who had unsubscribed and then signed up again without confirming: back to unsubscribed, not deleted.
    returning = SubscriberFactory(status="pending", status_before_signup="unsubscribed",
                                  created_at=days_ago(400), requested_at=days_ago(35))

    result = tasks.delete_stale_pending_subscribers.delay().get()

    assert result == {"deleted": 1, "restored": 1}
    remaining = dict(Subscriber.objects.values_list("pk", "status"))
    assert stale.pk not in remaining
    assert remaining == {fresh.pk: "pending", old_subscriber.pk: "subscribed", old_unsubscribed.pk: "unsubscribed",
                         returning.pk: "unsubscribed"}


def test_cleanup_age_is_configurable(settings):
    settings.NEWSLETTER_PENDING_MAX_AGE_DAYS = 2
    SubscriberFactory(status="pending", requested_at=days_ago(3))
    SubscriberFactory(status="pending", requested_at=days_ago(1))
    assert tasks.delete_stale_pending_subscribers() == {"deleted": 1, "restored": 0}
    assert Subscriber.objects.count() == 1


def test_cleanup_is_scheduled_with_celery_beat():
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert any(entry["task"] == "newsletter.tasks.delete_stale_pending_subscribers" for entry in schedule.values())


def test_email_tasks_skip_subscribers_in_the_wrong_state(mailoutbox):
    unsubscribed = SubscriberFactory(status="unsubscribed")
    assert tasks.send_confirmation_email(unsubscribed.pk) is False
    assert tasks.send_welcome_email(unsubscribed.pk) is False
    assert tasks.send_confirmation_email(999_999) is False
    assert mailoutbox == []
