"""Print a send's progress as JSON: ``manage.py newsletter_status SEND_ID``."""

import json

from django.core.management.base import BaseCommand, CommandError

from newsletter.models import Send
from newsletter.services import dispatch


class Command(BaseCommand):
    help = "Show the progress of a send (counts per state, rate, ETA) as JSON."

    def add_arguments(self, parser):
        parser.add_argument("send_id", type=int)

    def handle(self, send_id, **options):
        send = Send.objects.select_related("issue").filter(pk=send_id).first()
        if send is None:
            raise CommandError(f"No send with id {send_id}.")
        self.stdout.write(json.dumps(dispatch.progress(send), indent=2))
