"""Site-wide periodic tasks."""

import io
import logging

from django.core.management import call_command

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def publish_scheduled_pages() -> str:
    """Publish pages whose scheduled go-live time has passed and unpublish expired ones.

    Runs Wagtail's own ``publish_scheduled`` logic, which only touches revisions approved to go live before now
    and live pages past their expiry, so running it twice (or after a redelivery) changes nothing more.
    Scheduled by ``CELERY_BEAT_SCHEDULE`` every minute.
    """
    output = io.StringIO()
    call_command("publish_scheduled", stdout=output)
    result = output.getvalue().strip()
    if result:
        logger.info("publish_scheduled: %s", result)
    return result
