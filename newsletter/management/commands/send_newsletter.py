"""Queue an issue for sending: ``manage.py send_newsletter ISSUE_ID [--audience ...] [--at ISO-TIME]``."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from newsletter.models import Audience, NewsletterIssue
from newsletter.services.gate import GateError
from newsletter.tasks import queue_send


class Command(BaseCommand):
    help = "Send (or schedule) a published newsletter issue to its audience. Pressing twice sends once."

    def add_arguments(self, parser):
        parser.add_argument("issue_id", type=int)
        parser.add_argument("--audience", choices=[choice for choice, _ in Audience.choices],
                            help="Override the issue's audience (the access gate is checked for it).")
        parser.add_argument("--at", help="Schedule for this time (ISO 8601, with time zone) instead of now.")

    def handle(self, issue_id, audience=None, at=None, **options):
        issue = _published_issue(issue_id)
        _set_audience(issue, audience)
        scheduled_at = _scheduled_at(at)
        send, created = _queue(issue, scheduled_at)
        if created:
            state = "scheduled" if scheduled_at else "queued"
            self.stdout.write(self.style.SUCCESS(f"Send {send.pk} {state} for {send.audience_label}."))
        else:
            self.stdout.write(f"Send {send.pk} already exists for this audience ({send.get_status_display()}).")


def _published_issue(issue_id: int) -> NewsletterIssue:
    issue = NewsletterIssue.objects.filter(pk=issue_id).first()
    if issue is None:
        raise CommandError(f"No newsletter issue with id {issue_id}.")
    if not issue.live:
        raise CommandError(f"“{issue.title}” is not published: publish it before sending.")
    return issue


def _set_audience(issue: NewsletterIssue, audience: str | None) -> None:
    """``--audience``: the issue's audience changed and published (the archive page follows the new audience)."""
    if audience and audience != issue.audience:
        issue.audience = audience
        issue.save_revision().publish()


def _queue(issue: NewsletterIssue, scheduled_at):
    try:
        return queue_send(issue, scheduled_at=scheduled_at)
    except GateError as exc:
        raise CommandError(f"Refused by the access gate: {exc}") from exc


def _scheduled_at(at: str | None):
    """The ``--at`` time (None: send now); refused unless it is ISO 8601 with a time zone."""
    if not at:
        return None
    scheduled_at = parse_datetime(at)
    if scheduled_at is None or scheduled_at.tzinfo is None:
        raise CommandError("--at must be an ISO 8601 time with a time zone, e.g. 2026-12-01T09:00:00+00:00")
    return scheduled_at
