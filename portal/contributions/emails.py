"""The contributions emails: the review outcome task the services queue (it imports no service, so services
can queue it) and the sending helper the reminder task shares."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from celery import shared_task

from .models import ReminderSent, Submission


def _send(subject: str, template: str, context: dict, to: list[str]) -> None:
    context = {**context, "site_name": settings.WAGTAIL_SITE_NAME, "site_url": settings.SITE_URL}
    EmailMultiAlternatives(
        subject=subject, body=render_to_string(f"email/contributions/{template}.txt", context), to=to,
        reply_to=settings.EMAIL_REPLY_TO or None,
    ).send()


def send_reminder(period, organisation, kind: str, addresses: list[str]) -> None:
    """The deadline reminder (before the deadline, or on the day) to an organisation's submitters."""
    on_deadline = kind == ReminderSent.ON_DEADLINE
    _send(
        f"Figures for {period} are due {'today' if on_deadline else 'soon'}", "reminder",
        {"period": period, "organisation": organisation, "on_deadline": on_deadline,
         "url": settings.SITE_URL + reverse("contributions:period", args=[period.pk])},
        addresses,
    )


# The review outcomes the submitter is told of, in the subject's words.
OUTCOME_VERBS = {Submission.APPROVED: "approved", Submission.RETURNED: "returned for correction"}


@shared_task(name="portal.contributions.tasks.send_review_outcome", acks_late=True, autoretry_for=(OSError,),
             retry_backoff=True, max_retries=5)
def send_review_outcome(submission_id: int) -> bool:
    """Tell the person who submitted a version that it was approved or returned, with the reviewer's comment."""
    submission = (Submission.objects.select_related("period", "organisation", "submitted_by")
                  .filter(pk=submission_id, status__in=list(OUTCOME_VERBS), submitted_by__isnull=False)
                  .exclude(submitted_by__email="").first())
    if submission is None:
        return False
    _send(
        f"Your figures for {submission.period} were {OUTCOME_VERBS[submission.status]}", "review_outcome",
        {"submission": submission, "returned": submission.status == Submission.RETURNED,
         "url": settings.SITE_URL + reverse("contributions:period", args=[submission.period_id])},
        [submission.submitted_by.email],
    )
    return True
