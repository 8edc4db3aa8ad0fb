"""The emails the subscription services queue (confirmation, welcome, requested links): Celery tasks that import
no service, so the services can queue them without an import cycle. Registered under their old names in
``newsletter.tasks``, which imports them."""

from __future__ import annotations

import smtplib

from celery import shared_task

from newsletter.models import Subscriber
from newsletter.services import emails

# Transient delivery problems worth retrying (connection refused, timeouts, 4xx from the SMTP server).
RETRYABLE = (OSError, smtplib.SMTPException)


@shared_task(name="newsletter.tasks.send_confirmation_email", bind=True, acks_late=True, autoretry_for=RETRYABLE,
             retry_backoff=30, retry_backoff_max=600, max_retries=5)
def send_confirmation_email(self, subscriber_id: int) -> bool:
    """Email the double opt-in link, if the subscriber still exists and is still pending."""
    subscriber = Subscriber.objects.filter(pk=subscriber_id, status=Subscriber.Status.PENDING).first()
    if subscriber is None:
        return False
    emails.send_confirmation_email(subscriber)
    return True


@shared_task(name="newsletter.tasks.send_welcome_email", bind=True, acks_late=True, autoretry_for=RETRYABLE,
             retry_backoff=30, retry_backoff_max=600, max_retries=5)
def send_welcome_email(self, subscriber_id: int) -> bool:
    """Email the welcome message, if the subscriber is (still) subscribed."""
    subscriber = Subscriber.objects.filter(pk=subscriber_id, status=Subscriber.Status.SUBSCRIBED).first()
    if subscriber is None:
        return False
    emails.send_welcome_email(subscriber)
    return True


@shared_task(name="newsletter.tasks.send_link_email", bind=True, acks_late=True, autoretry_for=RETRYABLE,
             retry_backoff=30, retry_backoff_max=600, max_retries=5)
def send_link_email(self, subscriber_id: int, purpose: str) -> bool:
    """Email a requested preferences, export or erase link, if the subscriber still exists."""
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None:
        return False
    emails.send_link_email(subscriber, purpose)
    return True
