"""Sync subscribers with the Mailchimp audience: ``manage.py mailchimp_sync [--full]``."""

from django.core.management.base import BaseCommand, CommandError

from newsletter.mailchimp import sync
from newsletter.mailchimp.client import MailchimpError


class Command(BaseCommand):
    help = ("Pull changes made in Mailchimp, then push local changes (batches of 500). --full compares everyone "
            "instead of only what changed since the last run.")

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="Pull and compare every member, not only changes.")

    def handle(self, full=False, **options):
        last = {}

        def progress(phase: str, done: int, total: int) -> None:
            if last.get(phase) != done:
                last[phase] = done
                self.stdout.write(f"{phase}: {done}/{total}")

        try:
            summary = sync.run_sync(full=full, progress=progress)
        except MailchimpError as exc:
            raise CommandError(f"Mailchimp sync stopped: {exc}. Run it again to resume.") from exc
        self.stdout.write(self.style.SUCCESS(
            f"Done: pulled {summary.pulled} ({summary.pulled_changes} applied here), pushed {summary.pushed} in "
            f"{summary.batches} batches, {summary.skipped_compliance} held back by Mailchimp's compliance state, "
            f"{len(summary.errors)} refused, {summary.calls} API calls."))
        for error in summary.errors[:20]:
            self.stdout.write(f"  refused: {error}")
