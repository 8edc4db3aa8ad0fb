"""Thin Celery tasks for contributions: the review outcome email and the deadline reminders."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from celery import shared_task

from .models import ReminderSent, Submission, SubmitterRole


def _send(subject: str, template: str, context: dict, to: list[str]) -> None:
    context = {**context, "site_name": settings.WAGTAIL_SITE_NAME, "site_url": settings.SITE_URL}
    EmailMultiAlternatives(
        subject=subject, body=render_to_string(f"email/contributions/{template}.txt", context), to=to,
        reply_to=settings.EMAIL_REPLY_TO or None,
    ).send()


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_review_outcome(submission_id: int) -> bool:
    """Tell the person who submitted a version that it was approved or returned, with the reviewer's comment."""
    submission = Submission.objects.select_related("period", "organisation", "submitted_by").filter(
        pk=submission_id).first()
    if submission is None or submission.status not in {Submission.APPROVED, Submission.RETURNED}:
        return False
    if submission.submitted_by is None or not submission.submitted_by.email:
        return False
    returned = submission.status == Submission.RETURNED
    verb = "returned for correction" if returned else "approved"
    _send(
        f"Your figures for {submission.period} were {verb}", "review_outcome",
        {"submission": submission, "returned": returned,
         "url": settings.SITE_URL + reverse("contributions:period", args=[submission.period_id])},
        [submission.submitted_by.email],
    )
    return True


@shared_task(acks_late=True)
def send_deadline_reminders(today: str | None = None) -> int:
    """Remind the submitters of every hotline that has not submitted, N days before the deadline and on it.

    Safe to run any number of times a day: each (period, organisation, kind) reminder is recorded in a unique
    row inserted in the same transaction as the sending, so a second run finds it and a failed send is retried.
    """
    from .services.submissions import due_reminders

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
    from .services.aggregation import release_due

    return release_due()
