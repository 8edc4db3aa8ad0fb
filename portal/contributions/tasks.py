"""Thin Celery tasks for contributions: the deadline reminders and the release of figures (the review outcome
email, which the services queue, is in ``emails.py`` and registered here too)."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from celery import shared_task

from .emails import _send, send_review_outcome  # noqa: F401 - registered with the app's tasks
from .models import ReminderSent, SubmitterRole
from .services.aggregation import release_due
from .services.submissions import due_reminders


@shared_task(acks_late=True)
def send_deadline_reminders(today: str | None = None) -> int:
    """Remind the submitters of every hotline that has not submitted, N days before the deadline and on it.

    Safe to run any number of times a day: each (period, organisation, kind) reminder is recorded in a unique
    row inserted in the same transaction as the sending, so a second run finds it and a failed send is retried.
    """
    day = timezone.localdate() if today is None else timezone.datetime.fromisoformat(today).date()
    sent = 0
    for period, organisation, kind in due_reminders(day, settings.CONTRIBUTIONS_REMINDER_DAYS):
        addresses = sorted({role.user.email for role in SubmitterRole.objects.select_related("user").filter(
            organisation=organisation, user__is_active=True) if role.user.email})
        if not addresses and organisation.contact_email:
            addresses = [organisation.contact_email]
        if not addresses:
            continue
        try:
            with transaction.atomic():
                ReminderSent.objects.create(period=period, organisation=organisation, kind=kind)
                _send(
                    f"Figures for {period} are due {'today' if kind == ReminderSent.ON_DEADLINE else 'soon'}",
                    "reminder",
                    {"period": period, "organisation": organisation, "on_deadline": kind == ReminderSent.ON_DEADLINE,
                     "url": settings.SITE_URL + reverse("contributions:period", args=[period.pk])},
                    addresses,
                )
        except IntegrityError:
            continue  # another run sent this one
        sent += 1
    return sent


@shared_task(acks_late=True)
def release_due_figures() -> int:
    """Write the figures whose release time has come into their datasets (beat, every minute; idempotent)."""
    return release_due()
