"""Queue an issue for sending: ``manage.py send_newsletter ISSUE_ID [--audience ...] [--at ISO-TIME]``."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.dateparse import parse_datetime

from newsletter.models import Audience, NewsletterIssue
from newsletter.services import dispatch
from newsletter.services.gate import GateError
from newsletter.tasks import start_send


class Command(BaseCommand):
    help = "Send (or schedule) a published newsletter issue to its audience. Pressing twice sends once."

    def add_arguments(self, parser):
        parser.add_argument("issue_id", type=int)
        parser.add_argument("--audience", choices=[choice for choice, _ in Audience.choices],
                            help="Override the issue's audience (the access gate is checked for it).")
        parser.add_argument("--at", help="Schedule for this time (ISO 8601, with time zone) instead of now.")

    def handle(self, issue_id, audience=None, at=None, **options):
        issue = NewsletterIssue.objects.filter(pk=issue_id).first()
        if issue is None:
            raise CommandError(f"No newsletter issue with id {issue_id}.")
        if not issue.live:
            raise CommandError(f"“{issue.title}” is not published: publish it before sending.")
        if audience and audience != issue.audience:
            issue.audience = audience
            issue.save_revision().publish()  # the archive page follows the new audience
        scheduled_at = None
        if at:
            scheduled_at = parse_datetime(at)
            if scheduled_at is None or scheduled_at.tzinfo is None:
                raise CommandError("--at must be an ISO 8601 time with a time zone, e.g. 2026-12-01T09:00:00+00:00")
        try:
            with transaction.atomic():
                send, created = dispatch.create_send(issue, scheduled_at=scheduled_at)
                if created and not scheduled_at:
                    transaction.on_commit(lambda: start_send.delay(send.pk))
        except GateError as exc:
            raise CommandError(f"Refused by the access gate: {exc}") from exc
        state = "scheduled" if scheduled_at else "queued"
        if created:
            self.stdout.write(self.style.SUCCESS(f"Send {send.pk} {state} for {send.audience_label}."))
        else:
            self.stdout.write(f"Send {send.pk} already exists for this audience ({send.get_status_display()}).")
