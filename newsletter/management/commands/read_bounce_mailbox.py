"""Read the bounce and unsubscribe mailbox once, as beat does: ``manage.py read_bounce_mailbox`` (JSON summary)."""

import json

from django.core.management.base import BaseCommand, CommandError

from newsletter.services import mailbox


class Command(BaseCommand):
    help = "Read the bounce mailbox (NEWSLETTER_BOUNCE_IMAP_*) once and print what it found. Safe to run twice."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="Read at most this many messages.")

    def handle(self, limit=None, **options):
        if not mailbox.configured():
            raise CommandError("No bounce mailbox: set NEWSLETTER_BOUNCE_IMAP_HOST (and its user and password).")
        self.stdout.write(json.dumps(mailbox.process_mailbox(limit=limit), sort_keys=True))
