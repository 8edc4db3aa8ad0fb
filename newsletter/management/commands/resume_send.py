"""Resume a paused or stalled send: ``manage.py resume_send SEND_ID``."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from newsletter.models import Send
from newsletter.services import dispatch
from newsletter.tasks import start_send


class Command(BaseCommand):
    help = "Resume a paused send, or restart the workers of a stalled one. Safe to run twice."

    def add_arguments(self, parser):
        parser.add_argument("send_id", type=int)

    def handle(self, send_id, **options):
        send = _resumable_send(send_id)
        with transaction.atomic():
            resumed = dispatch.resume_send(send)
            dispatch.release_expired_leases()
            transaction.on_commit(lambda: start_send.delay(send.pk))
        self.stdout.write(self.style.SUCCESS(f"Send {send_id} {'resumed' if resumed else 'restarted'}."))


def _resumable_send(send_id: int) -> Send:
    """The send, refused when it does not exist or has nothing left to resume (done, cancelled, not started)."""
    send = Send.objects.filter(pk=send_id).first()
    if send is None:
        raise CommandError(f"No send with id {send_id}.")
    if send.status in {Send.Status.DONE, Send.Status.CANCELLED, Send.Status.SCHEDULED}:
        raise CommandError(f"Send {send_id} is {send.get_status_display().lower()}: nothing to resume.")
    return send
