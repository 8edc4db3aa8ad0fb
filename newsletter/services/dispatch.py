"""Sending an issue: create the Send once, freeze recipients into Delivery rows, work batches, resume crashes.

The Delivery rows are the ledger. A worker claims a batch with row locks (``SKIP LOCKED``) and a lease,
hands each message to the backend and marks its row the moment the provider answers. While it sends, the
lane renews its lease and checks before every message that it still holds its claim (``lease.Lease``); a lane
that dies leaves rows claimed, and once their lease has run out ``release_expired_leases`` puts them back in
the queue. So only the messages in flight when a process died (or lost the database) can arrive twice, and the
ledger counts every copy it learns about.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.db import IntegrityError, connections, transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from wagtail.log_actions import log

from newsletter.backends import BatchInterrupted, DeliveryResult, Outcome, get_backend
from newsletter.conf import conf
from newsletter.models import Delivery, NewsletterIssue, Send, Subscriber
from newsletter.services import bounces, gate, lease, ledger, rendering
from newsletter.services.audience import audience_key, audience_label, iter_recipients
from newsletter.services.campaigns import run_campaign_send
from newsletter.services.send_state import (
    ACTIVE,
    BatchOutcome,
    backoff_seconds,
    pause_send,
    start_scheduled,
    stopped_outcome,
)
from newsletter.services.throttle import Throttle

logger = logging.getLogger(__name__)




def batch_size() -> int:
    return int(conf.NEWSLETTER_BATCH_SIZE)


def lease_seconds() -> float:
    return lease.lease_seconds()


def max_attempts() -> int:
    return int(conf.NEWSLETTER_MAX_ATTEMPTS)


def throttle_for(send: Send) -> Throttle:
    """The global (all workers) rate limit for newsletter mail."""
    return Throttle(
        "newsletter",
        rate_per_second=conf.NEWSLETTER_RATE_PER_SECOND,
        window_cap=conf.NEWSLETTER_WINDOW_CAP,
        window_seconds=int(conf.NEWSLETTER_WINDOW_SECONDS),
    )


# --- Creating and starting a send -------------------------------------------------------------------------------


def create_send(issue: NewsletterIssue, *, user=None, scheduled_at=None) -> tuple[Send, bool]:
    """The Send for this issue and its audience: created the first time, found again after that.

    Refuses (``GateError``) an issue that references a page its audience may not read.
    """
    issue = issue.specific if hasattr(issue, "specific") else issue
    issue = rendering.original_issue(issue)  # translations go out with their original, in one send
    gate.check_issue(issue)
    key = audience_key(issue)
    defaults = {
        "audience_label": audience_label(issue),
        "backend": conf.NEWSLETTER_BACKEND,
        "created_by": user,
        "status": Send.Status.SCHEDULED if scheduled_at else Send.Status.PREPARING,
        "scheduled_at": scheduled_at,
    }
    send, created = _get_or_create(issue, key, defaults)
    if created:
        _log_created(issue, send, user, scheduled_at)
    return send, created


def _get_or_create(issue, key: str, defaults: dict) -> tuple[Send, bool]:
    """The issue's Send for this audience, created if there is none (a concurrent click may win the race)."""
    try:
        with transaction.atomic():
            return Send.objects.get_or_create(issue=issue, audience_key=key, defaults=defaults)
    except IntegrityError:  # a concurrent click won the race
        return Send.objects.get(issue=issue, audience_key=key), False


def _log_created(issue, send: Send, user, scheduled_at) -> None:
    """The new send in the issue's history: sent now, or scheduled for later."""
    log(instance=issue, action="newsletter.schedule" if scheduled_at else "newsletter.send", user=user,
        data={"send_id": send.pk, "audience": send.audience_label,
              "scheduled_at": scheduled_at.isoformat() if scheduled_at else None})


def prepare_send(send_id: int) -> Send | None:
    """Render the shared content and freeze the recipient list (both only once). Returns None if not sendable."""
    send = Send.objects.select_related("issue").filter(pk=send_id).first()
    if send is None or send.status not in ACTIVE:
        return None
    if send.frozen_at is None:
        return _render_and_freeze(send, send.issue.specific)
    return send


def _render_and_freeze(send: Send, issue) -> Send | None:
    """Check the gate again, render (once) and freeze the recipients, and start sending; None: paused by the gate."""
    try:
        gate.check_issue(issue)  # pages may have been restricted since the editor pressed send
        if not send.rendered_html:
            _render(send, issue)
    except gate.GateError as exc:
        pause_send(send, f"Access gate: {exc}")
        return None
    freeze_recipients(send, issue)
    now = timezone.now()
    Send.objects.filter(pk=send.pk, frozen_at__isnull=True).update(
        frozen_at=now, status=Send.Status.SENDING, started_at=now, last_activity_at=now
    )
    send.refresh_from_db()
    get_backend(send.backend).prepare(send)
    return send


def _render(send: Send, issue) -> None:
    """Store the issue's rendering and its translations' on the send (``GateError`` if a translation fails)."""
    rendered = rendering.render_issue(issue, send_id=send.pk)
    translations = rendering.render_translations(issue, send_id=send.pk)
    Send.objects.filter(pk=send.pk).update(
        rendered_subject=rendered.subject, rendered_html=rendered.html, rendered_text=rendered.text,
        rendered_translations=translations,
    )


def freeze_recipients(send: Send, issue) -> int:
    """Write one Delivery row per recipient in bulk, chunk by chunk; safe to run again after a crash."""
    total = 0
    for chunk in iter_recipients(issue):
        rows = [
            Delivery(
                send=send,
                email=recipient.email,
                subscriber_id=recipient.subscriber_id,
                status=Delivery.Status.SUPPRESSED if recipient.suppressed else Delivery.Status.QUEUED,
                error=recipient.reason,
            )
            for recipient in chunk
        ]
        Delivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        total += len(rows)
    return total


# --- Working batches --------------------------------------------------------------------------------------------


#: A lane waits for its mark writer when this many marks are not yet written: messages accepted but not yet in
#: the ledger are the ones a lost database connection could send twice, so there are never many.
MAX_UNWRITTEN_MARKS = 20


def claim_batch(send: Send, size: int | None = None) -> tuple[lease.Lease, list[Delivery]]:
    """Take up to ``size`` queued deliveries for this worker (rows locked with SKIP LOCKED, then leased)."""
    size = size or batch_size()
    claim = uuid.uuid4().hex
    started = time.monotonic()  # the lease is counted from before the claim, never longer than the database's
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(send=send, status=Delivery.Status.QUEUED)
            .filter(Q(not_before__isnull=True) | Q(not_before__lte=timezone.now()))
            .order_by("id")
            .values_list("id", flat=True)[:size]
        )
        if ids:
            Delivery.objects.filter(id__in=ids).update(
                status=Delivery.Status.SENDING, claim=claim, lease_until=lease.lease_end()
            )
    held = lease.Lease(claim, started=started, ids=ids)
    if not ids:
        return held, []
    return held, list(Delivery.objects.filter(id__in=ids).order_by("id"))


def _record(claim: str, result: DeliveryResult, attempts: dict[int, int]) -> bool:
    """Write one message's fate to its Delivery row, only while this batch still holds it (False: it does not)."""
    now = timezone.now()
    if result.outcome == Outcome.SENT:
        return not ledger.write_sent_marks(claim, [result.delivery_id])
    rows = Delivery.objects.filter(pk=result.delivery_id, claim=claim, status=Delivery.Status.SENDING)
    attempt = attempts.get(result.delivery_id, 0) + 1
    if result.outcome == Outcome.PERMANENT or attempt >= max_attempts():
        return _give_up(rows, result, attempt)
    return bool(rows.update(status=Delivery.Status.QUEUED, attempts=attempt, error=result.detail[:1000],
                            lease_until=None, not_before=now + timedelta(seconds=backoff_seconds(attempt))))


def _give_up(rows, result: DeliveryResult, attempt: int) -> bool:
    """Mark a refused message failed (if the batch still holds its row) and record the refusal as a bounce."""
    held = rows.update(status=Delivery.Status.FAILED, attempts=attempt, error=result.detail[:1000], lease_until=None)
    if held:
        # A refusal is a bounce like any other (hard: the address is dead; soft: counted towards the limit).
        bounces.record_refusal(result.delivery_id, result.detail,
                               permanent=result.outcome == Outcome.PERMANENT, attempt=attempt)
    return bool(held)


def _suppress_changed(deliveries: list[Delivery], claim: str) -> tuple[list[Delivery], dict[int, Subscriber]]:
    """Drop (and mark suppressed) recipients who unsubscribed or bounced after the list was frozen.

    Returns the deliveries to send and their subscribers (one query for both).
    """
    subscribers = Subscriber.objects.in_bulk(
        [d.subscriber_id for d in deliveries if d.subscriber_id]
    )
    keep = []
    for delivery in deliveries:
        reason = _no_longer_sendable(subscribers.get(delivery.subscriber_id))
        if reason:
            Delivery.objects.filter(pk=delivery.pk, claim=claim).update(
                status=Delivery.Status.SUPPRESSED, error=reason, lease_until=None
            )
        else:
            keep.append(delivery)
    return keep, subscribers


_SENDABLE = {Subscriber.Status.SUBSCRIBED, Subscriber.Status.PENDING}


def _no_longer_sendable(subscriber: Subscriber | None) -> str:
    """Why a frozen recipient is no longer sent the issue ("" while they may be)."""
    if subscriber is None:
        return "subscriber erased"
    return "" if subscriber.status in _SENDABLE else f"subscriber {subscriber.status}"


def process_batch(send: Send, *, backend=None, throttle: Throttle | None = None,
                  writer: ledger.MarkWriter | None = None) -> BatchOutcome:
    """Claim one batch of this send and deliver it. The caller loops until the outcome is not "more".

    With a ``writer``, "sent" marks are written by its background thread; without one, synchronously. Before
    every message the lane makes sure it still holds its claim (``lease.Lease.check``) and that its marks are
    being written; otherwise it stops, and what it has not handed over goes back to the queue.
    Three steps: claim a batch, deliver it (``_Lane``), settle what is left (``_settle``).
    """
    not_ready = _not_ready(send)
    if not_ready is not None:
        return not_ready
    held, deliveries = claim_batch(send)
    if not deliveries:
        return _finish_or_wait(send)
    ledger.relax_commit_durability()
    backend = backend or get_backend(send.backend)
    throttle = throttle or throttle_for(send)
    deliveries, subscribers = _suppress_changed(deliveries, held.claim)
    lane = _Lane(send, held, deliveries, subscribers, throttle=throttle, writer=writer)
    interrupted = lane.deliver(backend)
    return _settle(send, lane, interrupted)


def _not_ready(send: Send) -> BatchOutcome | None:
    """What to do instead of claiming a batch: the send is not sending, or is held back for a while."""
    send.refresh_from_db(fields=["status", "deferred_until", "connection_failures"])
    if send.status != Send.Status.SENDING:
        return stopped_outcome(send)
    remaining = _held_back_for(send)
    if remaining:
        return BatchOutcome("wait", wait_seconds=max(0.5, remaining))  # never a busy loop of tiny waits
    return None


def _held_back_for(send: Send) -> float:
    """Seconds the send is still held back after connection failures (0: it is not)."""
    if send.deferred_until is None:
        return 0.0
    return max(0.0, (send.deferred_until - timezone.now()).total_seconds())


class _Lane:
    """One claimed batch on its way to the backend: hands over messages while it holds the claim and the
    throttle allows, and counts what the backend reports."""

    def __init__(self, send: Send, held, deliveries: list, subscribers: dict, *, throttle: Throttle,
                 writer: ledger.MarkWriter | None):
        self.send, self.held, self.claim = send, held, held.claim
        self.deliveries, self.subscribers = deliveries, subscribers
        self.throttle, self.writer = throttle, writer
        self.attempts = {d.pk: d.attempts for d in deliveries}
        self.sent = self.failed = self.handed = 0
        self.wait = 0.0

    def deliver(self, backend) -> BatchInterrupted | None:
        """Hand the batch to the backend; the interruption when the mail server broke off, else None."""
        try:
            with self._lease_keeper():
                backend.deliver_batch(self.messages(), self.on_result)
        except BatchInterrupted as exc:
            logger.warning("Send %s: batch interrupted (%s); unsent messages will be retried", self.send.pk,
                           exc.detail)
            return exc
        finally:
            if self.writer is not None:
                # Every "sent" mark must be in before unsent rows go back to the queue. If marks were given up,
                # the rows stay leased and are released (and those messages resent) when the lease expires.
                self.writer.flush()
        return None

    def _lease_keeper(self):
        """A message may outlast the lease (each SMTP step may take EMAIL_TIMEOUT): while one is with the mail
        server a keeper thread renews the lease, unless the send is on one connection (SQLite, a transaction)."""
        return contextlib.nullcontext() if ledger.single_connection() else self.held.keep_alive()

    def fence(self) -> None:
        """Raise LeaseLost unless this lane may hand over one more message."""
        if self.writer is not None:
            self._check_writer(self.writer)
        self.held.check(unsent=len(self.deliveries) - self.handed)

    def _check_writer(self, writer: ledger.MarkWriter) -> None:
        """Lose the claim when the writer found it lost or cannot write; wait while too many marks are unwritten."""
        held = self.held
        reason = writer.stop_reason(self.claim)
        if reason:
            held.lose(reason)
        elif not held.lost_reason and writer.backlog() >= MAX_UNWRITTEN_MARKS:
            # Let the writer catch up: few accepted messages may be missing from the ledger at any time.
            writer.wait_for_backlog_below(MAX_UNWRITTEN_MARKS, timeout=held.renew_every)

    def take_slot(self) -> bool:
        """Wait for the throttle (renewing the lease meanwhile); False: a long wait, hand the rest back."""
        while True:
            self.fence()
            self.wait = self.throttle.try_acquire()
            if not self.wait:
                return True
            if self.wait > 5.0:
                return False
            time.sleep(min(self.wait, self.held.renew_every))

    def messages(self):
        for delivery in self.deliveries:
            # Rendered before the fence, so the lease check is the last thing before the handover.
            message = rendering.personalise(self.send, delivery_id=delivery.pk, email=delivery.email,
                                            subscriber=self.subscribers[delivery.subscriber_id])
            if not self._may_hand_over():
                return
            self.held.handing_over(unsent=len(self.deliveries) - self.handed)
            self.handed += 1
            yield message

    def _may_hand_over(self) -> bool:
        """Whether the next message may go: False after a long wait (window cap: the rest is handed back instead
        of sleeping on a worker) or once the claim is lost."""
        try:
            return self.take_slot()
        except lease.LeaseLost as exc:
            logger.warning("Send %s: lane stopped before message %d of %d: %s", self.send.pk, self.handed + 1,
                           len(self.deliveries), exc)
            return False

    def on_result(self, result: DeliveryResult) -> None:
        self.held.handed_over()
        if result.outcome == Outcome.SENT:
            self.sent += 1
            if self.writer is not None:
                self.writer.submit(self.claim, result.delivery_id)  # written in the background
                return
        else:
            self.failed += 1
        if not _record(self.claim, result, self.attempts):
            self.held.lose("a mark matched no row: the claim was lost")


def _settle(send: Send, lane: _Lane, interrupted: BatchInterrupted | None) -> BatchOutcome:
    """Put back what the lane did not hand over, and say what the worker should do next."""
    delay = _release_unsent(send, lane, interrupted)
    Send.objects.filter(pk=send.pk).update(last_activity_at=timezone.now())
    # The failure rate can only have risen if this batch failed somewhere (counting is a scan of the send).
    if lane.failed and _error_threshold_exceeded(send):
        pause_send(send, "Too many failed deliveries: check the mail server, then resume.")
        return BatchOutcome("paused", sent=lane.sent)
    return _go_on(lane, interrupted, delay)


def _go_on(lane: _Lane, interrupted: BatchInterrupted | None, delay: float) -> BatchOutcome:
    """The send goes on: after a broken connection (``delay``) or a long throttle wait the worker comes back later,
    else it takes the next batch at once."""
    if interrupted:
        return BatchOutcome("wait", wait_seconds=delay, sent=lane.sent)
    if lane.wait:
        return BatchOutcome("wait", wait_seconds=lane.wait, sent=lane.sent)
    return BatchOutcome("more", sent=lane.sent)


def _release_unsent(send: Send, lane: _Lane, interrupted: BatchInterrupted | None) -> float:
    """Whatever the batch still holds was not handed over: back to the queue (nothing, if the claim was lost).
    Returns how long the send is held back after a connection failure (0 otherwise)."""
    unsent = Delivery.objects.filter(pk__in=lane.held.ids, claim=lane.claim, status=Delivery.Status.SENDING)
    if interrupted:
        return _release_interrupted(send, lane, unsent, interrupted)
    unsent.update(status=Delivery.Status.QUEUED, lease_until=None)
    if lane.sent and send.connection_failures:
        Send.objects.filter(pk=send.pk).update(connection_failures=0, deferred_until=None)
    return 0.0


def _release_interrupted(send: Send, lane: _Lane, unsent, interrupted: BatchInterrupted) -> float:
    """The mail server is the problem, not these recipients: they keep their attempts, and the whole send waits,
    longer after each failure in a row. Only a message being handed over when the connection broke spends an
    attempt (it may be what breaks it). Returns how long the send is held back."""
    if interrupted.in_flight is not None:
        _record(lane.claim, DeliveryResult(interrupted.in_flight, Outcome.TEMPORARY, interrupted.detail),
                lane.attempts)
    unsent.update(status=Delivery.Status.QUEUED, lease_until=None, error=interrupted.detail[:1000])
    return _defer_send(send, interrupted.detail)


def _defer_send(send: Send, detail: str) -> float:
    """After a connection failure: count it and hold the whole send back, exponentially longer each time in a row."""
    Send.objects.filter(pk=send.pk).update(connection_failures=F("connection_failures") + 1)
    failures = Send.objects.filter(pk=send.pk).values_list("connection_failures", flat=True).first() or 1
    delay = backoff_seconds(failures)
    until = timezone.now() + timedelta(seconds=delay)
    # Other lanes may have deferred it further already: never shorten their wait.
    Send.objects.filter(pk=send.pk).filter(Q(deferred_until__isnull=True) | Q(deferred_until__lt=until)).update(
        deferred_until=until)
    logger.warning("Send %s: mail server unreachable (%s), failure %d in a row; holding the send for %.1f s",
                   send.pk, detail, failures, delay)
    return delay


def _finish_or_wait(send: Send) -> BatchOutcome:
    """No batch to claim: done, or waiting for retries (backoff) or for other workers' batches."""
    pending = Delivery.objects.filter(send=send, status__in=[Delivery.Status.QUEUED, Delivery.Status.SENDING])
    next_retry = (
        pending.filter(status=Delivery.Status.QUEUED, not_before__isnull=False)
        .order_by("not_before")
        .values_list("not_before", flat=True)
        .first()
    )
    if next_retry is not None:
        return BatchOutcome("wait", wait_seconds=max(0.5, (next_retry - timezone.now()).total_seconds()))
    if pending.exists():
        return BatchOutcome("idle")  # other workers hold the last batches; stalled ones are released later
    _finish(send)
    return BatchOutcome("done")


def _finish(send: Send) -> None:
    """Mark the send done (logged once: by the worker that switches it)."""
    if Send.objects.filter(pk=send.pk, status=Send.Status.SENDING).update(status=Send.Status.DONE,
                                                                          finished_at=timezone.now()):
        logger.info("Send %s finished", send.pk)


def _error_threshold_exceeded(send: Send) -> bool:
    threshold = float(conf.NEWSLETTER_ERROR_THRESHOLD)
    minimum = int(conf.NEWSLETTER_ERROR_MIN_ATTEMPTS)
    counts = _failed_and_sent(send)
    send.refresh_from_db(fields=["failures_before_resume", "attempts_before_resume"])
    failed = counts["failed"] - send.failures_before_resume
    attempted = counts["failed"] + counts["sent"] - send.attempts_before_resume
    return attempted >= minimum and failed / attempted > threshold


def _failed_and_sent(send: Send) -> dict[str, int]:
    """How many of the send's deliveries failed and how many were sent."""
    return Delivery.objects.filter(send=send).aggregate(
        failed=Count("id", filter=Q(status=Delivery.Status.FAILED)),
        sent=Count("id", filter=Q(status=Delivery.Status.SENT)),
    )


def lanes_per_task() -> int:
    """How many batches one task works at once, each over its own SMTP connection (setting, default 4)."""
    return max(1, int(conf.NEWSLETTER_CONNECTIONS_PER_TASK))


def run_send(send_id: int, *, time_budget: float | None = None, backend=None, lanes: int | None = None) -> BatchOutcome:
    """Work batches of one send until it is done, paused, waiting, or the time budget is used up.

    Sending is mostly waiting for the mail server, so a task keeps several batches going at once, each in
    its own thread with its own SMTP and database connection (``NEWSLETTER_CONNECTIONS_PER_TASK``). On SQLite
    (the embedded default: one writer at a time) and inside a transaction (tests, where other connections
    could not see the rows) it works one batch at a time on the caller's connection.
    """
    send = prepare_send(send_id)
    if send is None:
        return BatchOutcome("idle")
    backend = backend or get_backend(send.backend)
    if not backend.per_recipient:
        # A campaign backend (Mailchimp) sends the frozen list itself, in one campaign per Send.
        return run_campaign_send(send, backend)
    return _work_lanes(send, backend, time_budget, lanes or lanes_per_task())


def _work_lanes(send: Send, backend, time_budget: float | None, lanes: int) -> BatchOutcome:
    """``lanes`` batches at once, each in its thread; one on the caller's connection when threads cannot help."""
    if lanes == 1 or ledger.single_connection():
        return _work_lane(send, backend, time_budget)
    with ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="newsletter-lane") as pool:
        outcomes = list(pool.map(lambda _: _lane_in_thread(send.pk, backend, time_budget), range(lanes)))
    return combine_outcomes(outcomes)


def _work_lane(send: Send, backend, time_budget: float | None) -> BatchOutcome:
    started = time.monotonic()
    total = 0
    with ledger.lane_writer() as writer:
        while True:
            outcome = process_batch(send, backend=backend, writer=writer)
            total += outcome.sent
            if outcome.state != "more":
                outcome.sent = total
                return outcome
            if _out_of_time(started, time_budget):
                return BatchOutcome("more", sent=total)


def _out_of_time(started: float, time_budget: float | None) -> bool:
    """Whether a task that started at ``started`` (monotonic clock) has used up its time budget, if it has one."""
    return time_budget is not None and time.monotonic() - started > time_budget


def _lane_in_thread(send_id: int, backend, time_budget: float | None) -> BatchOutcome:
    try:
        return _work_lane(Send.objects.get(pk=send_id), backend, time_budget)
    finally:
        connections.close_all()  # this thread's own connections; the pool's threads end with the task


#: When lanes end differently, the one that matters most for what the task does next.
_OUTCOME_PRIORITY = {"paused": 0, "more": 1, "wait": 2, "done": 3, "idle": 4}


def combine_outcomes(outcomes: list[BatchOutcome]) -> BatchOutcome:
    """One outcome for a task from its lanes': paused wins, then more work, then the shortest wait."""
    first = min(outcomes, key=lambda o: (_OUTCOME_PRIORITY[o.state], o.wait_seconds))
    return BatchOutcome(first.state, wait_seconds=first.wait_seconds, sent=sum(o.sent for o in outcomes))


# --- Control: pause, resume, cancel, crash recovery ---------------------------------------------------------------


def resume_send(send: Send, user=None) -> bool:
    """Let a paused send continue (retrying its temporary failures now)."""
    target = Send.Status.SENDING if send.frozen_at else Send.Status.PREPARING
    changed = Send.objects.filter(pk=send.pk, status=Send.Status.PAUSED).update(status=target, paused_reason="")
    if changed:
        counts = _failed_and_sent(send)
        Send.objects.filter(pk=send.pk).update(failures_before_resume=counts["failed"],
                                               attempts_before_resume=counts["failed"] + counts["sent"])
        Delivery.objects.filter(send=send, status=Delivery.Status.QUEUED).update(not_before=None)
        Send.objects.filter(pk=send.pk).update(deferred_until=None, connection_failures=0)
        log(instance=send.issue, action="newsletter.resume", user=user, data={"send_id": send.pk})
    return bool(changed)


def cancel_send(send: Send, user=None) -> bool:
    """Cancel a scheduled (or paused) send before it goes out."""
    changed = Send.objects.filter(pk=send.pk, status__in=[Send.Status.SCHEDULED, Send.Status.PAUSED]).update(
        status=Send.Status.CANCELLED, finished_at=timezone.now()
    )
    if changed:
        log(instance=send.issue, action="newsletter.cancel", user=user, data={"send_id": send.pk})
    return bool(changed)


def release_expired_leases() -> int:
    """Put deliveries held by lanes that stopped (lease expired on the database's clock) back in the queue."""
    return lease.release_expired()


def due_scheduled_sends(now=None) -> list[int]:
    """Scheduled sends whose time has come, switched to preparing (each returned once)."""
    now = now or timezone.now()
    due = []
    for send_id in Send.objects.filter(status=Send.Status.SCHEDULED, scheduled_at__lte=now).values_list("id",
                                                                                                         flat=True):
        if start_scheduled(send_id):
            due.append(send_id)
    return due


def stalled_sends(now=None) -> list[int]:
    """Active sends with work left and no progress for a lease period (their workers died), each claimed for a
    restart by one caller: several workers and beat may ask at once, and only one of them restarts a send."""
    now = now or timezone.now()
    quiet = Q(last_activity_at__isnull=True) | Q(last_activity_at__lt=now - timedelta(seconds=lease_seconds()))
    restart = []
    for send in Send.objects.filter(status__in=ACTIVE).filter(quiet):
        if _has_work(send) and Send.objects.filter(pk=send.pk, status__in=ACTIVE).filter(quiet).update(
                last_activity_at=now):
            restart.append(send.pk)
    return restart


def _has_work(send: Send) -> bool:
    """A send still preparing has; a sending one while deliveries are queued."""
    return send.status != Send.Status.SENDING or send.deliveries.filter(status=Delivery.Status.QUEUED).exists()


# --- Progress -----------------------------------------------------------------------------------------------------


def _waiting_reason(send: Send) -> str:
    """Why a send is held back (the mail server is unreachable), for the progress view; empty if it is not."""
    if send.status != Send.Status.SENDING or not _held_back_for(send):
        return ""
    at = timezone.localtime(send.deferred_until).strftime("%H:%M:%S")
    return (f"The mail server could not be reached ({send.connection_failures} time(s) in a row); "
            f"next try at {at}. Nobody is skipped: everyone still queued will be sent.")


def progress(send: Send) -> dict:
    """Counts per state, rate and ETA for the progress view and the status command."""
    send.refresh_from_db()
    counts = dict(Delivery.objects.filter(send=send).values_list("status").annotate(n=Count("id")).values_list(
        "status", "n"))
    total = sum(counts.values())
    sent = counts.get(Delivery.Status.SENT, 0)
    queued = counts.get(Delivery.Status.QUEUED, 0) + counts.get(Delivery.Status.SENDING, 0)
    copies = _ledger_account(send)
    return {
        "send_id": send.pk,
        "issue": send.issue.title,
        "audience": send.audience_label,
        "status": send.status,
        "status_label": send.get_status_display(),
        "paused_reason": send.paused_reason,
        "waiting_reason": _waiting_reason(send),
        "total": total,
        "queued": queued,
        "sent": sent,
        "failed": counts.get(Delivery.Status.FAILED, 0),
        "suppressed": counts.get(Delivery.Status.SUPPRESSED, 0),
        "bounced": counts.get(Delivery.Status.BOUNCED, 0),
        "unsubscribed_after": _unsubscribed_after(send),
        # The ledger's own account: every message handed to the mail server (retries included), every copy it
        # accepted, the second copies found (a lane that had lost its claim), and rows taken back from lanes
        # that stopped (a process that died may have sent the message it had in flight).
        "handed_over": copies["handed"],
        "accepted": copies["accepted"],
        "possible_duplicates": copies["duplicates"],
        "taken_back": copies["taken_back"],
        "percent": _percent_done(send, total - queued, total),
        **_rate_and_eta(send, sent, queued),
        "started_at": _isoformat(send.started_at),
        "finished_at": _isoformat(send.finished_at),
    }


def _unsubscribed_after(send: Send) -> int:
    """Recipients sent the issue who unsubscribed (or complained) after the send started."""
    if not send.started_at:
        return 0
    return Delivery.objects.filter(
        send=send, status=Delivery.Status.SENT, subscriber__unsubscribed_at__gte=send.started_at,
        subscriber__status__in=[Subscriber.Status.UNSUBSCRIBED, Subscriber.Status.COMPLAINED],
    ).count()


def _ledger_account(send: Send) -> dict[str, int]:
    """Messages handed over, copies accepted, possible duplicates and rows taken back, over the whole send."""
    return Delivery.objects.filter(send=send).aggregate(
        handed=Coalesce(Sum("attempts"), 0),
        accepted=Coalesce(Sum("copies"), 0),
        duplicates=Coalesce(Sum(F("copies") - 1, filter=Q(copies__gt=1)), 0),
        taken_back=Coalesce(Sum("taken_back"), 0),
    )


def _percent_done(send: Send, finished: int, total: int) -> float:
    if total:
        return round(100 * finished / total, 1)
    return 100.0 if send.status == Send.Status.DONE else 0.0


def _rate_and_eta(send: Send, sent: int, queued: int) -> dict:
    """Messages sent per second since the start (until the end) and the seconds left at that rate."""
    if not (send.started_at and sent):
        return {"rate_per_second": None, "eta_seconds": None}
    rate = round(sent / _seconds_sending(send), 2)
    return {"rate_per_second": rate, "eta_seconds": _eta(queued, rate)}


def _eta(queued: int, rate: float) -> int:
    """Seconds until the queued messages are sent at ``rate`` (0 with nothing queued, or no rate yet)."""
    return round(queued / rate) if rate and queued else 0


def _seconds_sending(send: Send) -> float:
    """How long the send has been going (until it finished), at least a millisecond."""
    end = send.finished_at or timezone.now()
    return max((end - send.started_at).total_seconds(), 0.001)


def _isoformat(moment) -> str | None:
    return moment.isoformat() if moment else None
