"""Thin Celery tasks for subscriptions: they take ids, call a service and are safe to run twice."""

from __future__ import annotations

import logging
import threading
import time
from typing import NoReturn

from django.db import transaction

from celery import shared_task
from celery.signals import worker_ready

from newsletter.conf import conf

# The emails the services queue live in email_tasks (they import no service); registered here too.
from newsletter.email_tasks import (  # noqa: F401
    RETRYABLE,
    send_confirmation_email,
    send_link_email,
    send_welcome_email,
)
from newsletter.mailchimp import client, reports, sync
from newsletter.mailchimp.webhooks import handle_event
from newsletter.services import dispatch, mailbox
from newsletter.services.campaigns import hand_over_scheduled
from newsletter.services.digest import assemble_monthly_digest
from newsletter.services.subscriptions import delete_stale_pending

logger = logging.getLogger(__name__)



@shared_task
def delete_stale_pending_subscribers() -> dict:
    """Periodic (beat): discard signups never confirmed within NEWSLETTER_PENDING_MAX_AGE_DAYS."""
    deleted, restored = delete_stale_pending()
    return {"deleted": deleted, "restored": restored}


# --- Sending issues (thin: ids in, services do the work) ----------------------------------------------------------


def _parallel_workers() -> int:

    return int(conf.NEWSLETTER_PARALLEL_BATCHES)


@shared_task(acks_late=True)
def start_send(send_id: int) -> str:
    """Freeze the recipient list (once) and start parallel batch workers on it."""
    send = dispatch.prepare_send(send_id)
    if send is None:
        return "not sendable"
    for _ in range(_parallel_workers()):
        process_send.delay(send_id)
    return "started"


@shared_task(bind=True, acks_late=True)
def process_send(self, send_id: int) -> str:
    """Work batches of a send for a while, then hand over to a fresh task (short tasks survive restarts)."""
    from django.conf import settings

    budget = None if settings.CELERY_TASK_ALWAYS_EAGER else float(conf.NEWSLETTER_TASK_BUDGET)
    outcome = dispatch.run_send(send_id, time_budget=budget)
    if outcome.state == "more":
        process_send.delay(send_id)
    elif outcome.state == "wait" and not settings.CELERY_TASK_ALWAYS_EAGER:
        # Backing off (mail server down, retries due later, throttle window): say so in the worker log.
        logger.info("Send %s: next try in %.1f s", send_id, outcome.wait_seconds)
        process_send.apply_async((send_id,), countdown=outcome.wait_seconds)
    return outcome.state


def queue_send(issue, *, user=None, scheduled_at=None):
    """Create the issue's send (once: a second call finds it) and start it when the transaction commits, unless
    it is scheduled. Returns ``(send, created)``; raises ``GateError`` when the access gate refuses the issue."""
    with transaction.atomic():
        send, created = dispatch.create_send(issue, user=user, scheduled_at=scheduled_at)
        if created and not scheduled_at:
            transaction.on_commit(lambda: start_send.delay(send.pk))
    return send, created


@shared_task
def tick_sends() -> dict:
    """Periodic (every worker, and beat): start due scheduled sends, release batches of stopped lanes, restart
    stalled sends. Safe to run often and from many places: each start or restart is claimed by one run only."""
    released = dispatch.release_expired_leases()
    due = dispatch.due_scheduled_sends()
    stalled = [send_id for send_id in dispatch.stalled_sends() if send_id not in due]
    for send_id in [*due, *stalled]:
        start_send.delay(send_id)
    return {"released": released, "started": due, "resumed": stalled}


@shared_task(acks_late=True)
def send_monthly_digest(month: str | None = None) -> str:
    """Periodic (beat, 1st of the month): assemble last month's digest and send it to digest subscribers.

    Idempotent: the digest issue and its Send are each created once.
    """
    import datetime

    from django.utils import timezone

    if month:
        target = datetime.date.fromisoformat(month)
    else:
        target = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    issue = assemble_monthly_digest(target)
    if issue is None:
        return "nothing published"
    send, _created = queue_send(issue)
    return f"send {send.pk}"


# --- Mailchimp (audience sync, webhooks, campaign reports) ---------------------------------------------------------


@shared_task(bind=True, acks_late=True, max_retries=None)
def mailchimp_sync(self, full: bool = False) -> dict:
    """Periodic (beat): two-way audience sync. While Mailchimp is down it waits and tries again (backoff)."""
    if not client.is_configured():
        return {"skipped": "Mailchimp is not configured"}
    try:
        return sync.run_sync(full=full).as_dict()
    except sync.SyncBusy:
        return {"skipped": "another sync is running"}
    except client.MailchimpUnavailable as exc:
        _retry_later(self, exc)


def _retry_later(task, exc: Exception) -> NoReturn:
    """Retry the task while Mailchimp is down (backoff up to an hour). Without a broker (tasks run eagerly, in the
    web process) the error is raised instead."""
    from django.conf import settings

    if settings.CELERY_TASK_ALWAYS_EAGER:
        raise exc
    raise task.retry(exc=exc, countdown=min(3600, 60 * 2 ** min(task.request.retries, 6))) from exc


@shared_task(acks_late=True)
def process_mailchimp_webhook(payload: dict) -> str:
    """Apply one Mailchimp list event (subscribe, unsubscribe, profile, upemail, cleaned); idempotent."""
    return handle_event(payload)


@shared_task
def mailchimp_reports() -> dict:
    """Periodic (beat, hourly): refresh the Mailchimp reports of sends from the last few days."""
    if not client.is_configured():
        return {"skipped": "Mailchimp is not configured"}
    return reports.pull_due_reports()


@shared_task
def mailchimp_hand_over_scheduled() -> list[int]:
    """Periodic (beat): give scheduled Mailchimp sends to Mailchimp early, so it sends on the (rounded) time."""
    started = hand_over_scheduled()
    for send_id in started:
        start_send.delay(send_id)
    return started


@shared_task(bind=True, acks_late=True, max_retries=None)
def mailchimp_forget(self, member_hash: str) -> str:
    """Permanently delete an erased subscriber from the Mailchimp audience (retried while Mailchimp is down)."""
    if not client.is_configured():
        return "not configured"
    try:
        client.get_client().call(lambda c: c.lists.delete_list_member_permanent(client.audience_id(), member_hash))
    except client.MailchimpNotFound:
        return "not in Mailchimp"
    except client.MailchimpUnavailable as exc:
        _retry_later(self, exc)
    return "deleted"


# --- Every worker keeps sends going, with or without beat ---------------------------------------------------------


def _tick_every(seconds: float) -> None:
    while True:
        try:
            tick_sends.delay()
        except Exception as exc:  # the broker is away: the next round will try again
            logger.warning("Could not queue the sending tick: %s", exc)
        time.sleep(seconds)


@worker_ready.connect
def keep_sends_going(sender=None, **kwargs) -> None:
    """When a worker starts, and then every NEWSLETTER_TICK_SECONDS, queue ``tick_sends``.

    So a fresh worker picks up a send whose worker died (once its lease has run out), and sends resume and
    scheduled sends start even where beat is not running. The thread only publishes a task: the work (and the
    database) stays in the pool's processes.
    """

    seconds = float(conf.NEWSLETTER_TICK_SECONDS)
    threading.Thread(target=_tick_every, args=(seconds,), name="newsletter-tick", daemon=True).start()


@shared_task(acks_late=True)
def read_bounce_mailbox() -> dict:
    """Periodic (beat): read the bounce and unsubscribe mailbox once (safe to run twice; nothing if unconfigured)."""
    return mailbox.process_mailbox()
