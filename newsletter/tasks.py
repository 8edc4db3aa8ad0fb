"""Thin Celery tasks for subscriptions: they take ids, call a service and are safe to run twice."""

from __future__ import annotations

import smtplib

from celery import shared_task

from newsletter.models import Subscriber
from newsletter.services import emails
from newsletter.services.subscriptions import delete_stale_pending

# Transient delivery problems worth retrying (connection refused, timeouts, 4xx from the SMTP server).
RETRYABLE = (OSError, smtplib.SMTPException)


@shared_task(bind=True, acks_late=True, autoretry_for=RETRYABLE, retry_backoff=30, retry_backoff_max=600,
             max_retries=5)
def send_confirmation_email(self, subscriber_id: int) -> bool:
    """Email the double opt-in link, if the subscriber still exists and is still pending."""
    subscriber = Subscriber.objects.filter(pk=subscriber_id, status=Subscriber.Status.PENDING).first()
    if subscriber is None:
        return False
    emails.send_confirmation_email(subscriber)
    return True


@shared_task(bind=True, acks_late=True, autoretry_for=RETRYABLE, retry_backoff=30, retry_backoff_max=600,
             max_retries=5)
def send_welcome_email(self, subscriber_id: int) -> bool:
    """Email the welcome message, if the subscriber is (still) subscribed."""
    subscriber = Subscriber.objects.filter(pk=subscriber_id, status=Subscriber.Status.SUBSCRIBED).first()
    if subscriber is None:
        return False
    emails.send_welcome_email(subscriber)
    return True


@shared_task
def delete_stale_pending_subscribers() -> dict:
    """Periodic (beat): discard signups never confirmed within NEWSLETTER_PENDING_MAX_AGE_DAYS."""
    deleted, restored = delete_stale_pending()
    return {"deleted": deleted, "restored": restored}
