"""Thin Celery tasks for contributions: the deadline reminders and the release of figures (the review outcome
email, which the services queue, is in ``emails.py`` and registered here too)."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from celery import shared_task

from .emails import send_reminder, send_review_outcome  # noqa: F401 - registered with the app's tasks
from .models import ReminderSent
from .services.aggregation import release_due
from .services.submissions import due_reminders, reminder_addresses


@shared_task(acks_late=True)
def send_deadline_reminders(today: str | None = None) -> int:
    """Remind the submitters of every hotline that has not submitted, N days before the deadline and on it.

    Safe to run any number of times a day: each (period, organisation, kind) reminder is recorded in a unique
    row inserted in the same transaction as the sending, so a second run finds it and a failed send is retried.
    """
    day = timezone.localdate() if today is None else timezone.datetime.fromisoformat(today).date()
    sent = 0
    for period, organisation, kind in due_reminders(day, settings.CONTRIBUTIONS_REMINDER_DAYS):
        addresses = reminder_addresses(organisation)
        if addresses and _remind_once(period, organisation, kind, addresses):
            sent += 1
    return sent


def _remind_once(period, organisation, kind: str, addresses: list[str]) -> bool:
    """Record and send one reminder; False if another run has sent it already."""
    try:
        with transaction.atomic():
            ReminderSent.objects.create(period=period, organisation=organisation, kind=kind)
            send_reminder(period, organisation, kind, addresses)
    except IntegrityError:
        return False  # another run sent this one
    return True


@shared_task(acks_late=True)
def release_due_figures() -> int:
    """Write the figures whose release time has come into their datasets (beat, every minute; idempotent)."""
    return release_due()
