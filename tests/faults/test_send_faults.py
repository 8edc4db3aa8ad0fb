"""Fault tests: a newsletter send survives PostgreSQL and Redis restarts and a mail server outage.

Each test sends one issue to a few hundred subscribers through a real Celery worker (with embedded beat, as
``tick_sends`` resumes stalled sends) to a real SMTP server on loopback, breaks one service mid-send, and ends
with the sink count check: every recipient got the issue, duplicates stay within the batches in flight, and the
Delivery ledger says every row was sent. PostgreSQL and Redis are throwaway servers started by
``tests/faults/conftest.py``; the shared ones are never touched.

A hard-killed worker (SIGKILL) is covered by ``tests/newsletter/test_delivery_worker.py::
test_sigkilled_worker_loses_nobody_and_a_fresh_worker_alone_resumes`` and not repeated here.
Figures measured on the CI machine are in ``docs/reliability.md``; each test prints its own (run with ``-s``).
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import re
import time
from pathlib import Path

from django.db.models import Count

import pytest

from newsletter.models import Audience, Delivery, Send, Subscriber
from newsletter.services import dispatch
from newsletter.tasks import start_send
from tests.faults.conftest import WORKER_ENV, db_read
from tests.newsletter.issue_factories import NewsletterIndexPageFactory, make_issue
from tests.services import restore_wagtail_base_data, wait_for
from tests.smtp_sink import SMTPSink

# transaction=True: the worker must see committed rows. (The flush that ends each such test runs on the
# throwaway database, which is what this process's connection points at while the module runs.)
pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

RECIPIENTS = 300
# Messages that may arrive twice: the batches in flight when the fault hit (batch size x lanes per task x tasks
# that can be running at once: the send's own chain and one restarted by beat).
IN_FLIGHT = int(WORKER_ENV["NEWSLETTER_BATCH_SIZE"]) * int(WORKER_ENV["NEWSLETTER_CONNECTIONS_PER_TASK"]) * 2
FAULT_AFTER = RECIPIENTS // 3


@pytest.fixture
def archive(fault_stack):
    from tests.factories import make_site_home

    restore_wagtail_base_data()
    return NewsletterIndexPageFactory(parent=make_site_home())


def new_send(archive, label: str, recipients: int = RECIPIENTS) -> tuple[Send, list[str]]:
    """A fresh public issue and ``recipients`` new subscribers (earlier tests' subscribers are unsubscribed)."""
    Subscriber.objects.filter(status=Subscriber.Status.SUBSCRIBED).update(status=Subscriber.Status.UNSUBSCRIBED)
    emails = [f"{label}{n:04d}@example.org" for n in range(recipients)]
    Subscriber.objects.bulk_create([Subscriber(email=email, status=Subscriber.Status.SUBSCRIBED) for email in emails])
    issue = make_issue(archive, audience=Audience.PUBLIC, subject=f"Fault test: {label}", slug=f"fault-{label}")
    send, _ = dispatch.create_send(issue)
    return send, emails


def send_status(send: Send):
    return db_read(lambda: Send.objects.filter(pk=send.pk).values_list("status", flat=True).first())


def wait_until_done(send: Send, worker, timeout: float) -> None:
    wait_for(lambda: send_status(send) == Send.Status.DONE, timeout=timeout, interval=0.3,
             message=f"the send did not complete after the fault:\n{read_log(worker)[-4000:]}")
    time.sleep(0.5)  # let the last SMTP transactions land


def read_log(worker) -> str:
    """The worker's whole log so far (also copied to $FAULT_LOG_DIR, when set, for a closer look)."""
    try:
        text = worker.log_path.read_text(errors="replace")
    except OSError:
        return ""
    if os.environ.get("FAULT_LOG_DIR"):
        Path(os.environ["FAULT_LOG_DIR"]).mkdir(parents=True, exist_ok=True)
        (Path(os.environ["FAULT_LOG_DIR"]) / f"{worker.node_name.split('@')[0]}.log").write_text(text)
    return text


def sink_count_check(send: Send, emails: list[str], received: list[str]) -> dict:
    """Nobody lost, nobody unexpected, duplicates bounded, the ledger complete. Returns the figures."""
    counts = collections.Counter(received)
    missing = sorted(set(emails) - set(counts))
    assert not missing, f"{len(missing)} recipients never received the issue, e.g. {missing[:5]}"
    strangers = sorted(set(counts) - set(emails))
    assert not strangers, f"mail went to addresses outside the audience: {strangers[:5]}"
    duplicates = sum(count - 1 for count in counts.values())
    assert duplicates <= IN_FLIGHT, f"{duplicates} duplicates: more than the {IN_FLIGHT} messages in flight"
    ledger = dict(Delivery.objects.filter(send=send).values_list("status").annotate(n=Count("id")))
    assert ledger == {Delivery.Status.SENT: len(emails)}, ledger
    return {"recipients": len(emails), "received": len(received), "duplicates": duplicates}


def report(name: str, figures: dict) -> None:
    """Print the figures (docs/reliability.md quotes them); visible with ``pytest -s``."""
    print(f"\nFAULT FIGURES {name}: {json.dumps(figures)}")


def first_arrival_after(sink: SMTPSink, moment: float) -> float | None:
    with sink.lock:
        later = [arrival for arrival in sink.arrival_times if arrival > moment]
    return min(later) if later else None


def test_postgresql_restart_mid_send_resumes_and_completes(fault_stack, archive, schedule_dir):
    send, emails = new_send(archive, "pgrestart")
    started = time.monotonic()
    with SMTPSink() as sink, fault_stack.producer(), fault_stack.worker(sink, schedule_dir=schedule_dir) as worker:
        start_send.delay(send.pk)
        wait_for(lambda: len(sink.messages) >= FAULT_AFTER, timeout=60,
                 message=f"the send did not get going:\n{read_log(worker)[-4000:]}")
        at_fault = len(sink.messages)
        fault_at = time.monotonic()
        fault_stack.postgres.restart(downtime=3)
        back_at = time.monotonic()
        wait_until_done(send, worker, timeout=60)
        done_at = time.monotonic()
        log = read_log(worker)
    assert at_fault < RECIPIENTS, "the send finished before the fault; slow it down"
    figures = sink_count_check(send, emails, sink.recipients)
    resumed_at = first_arrival_after(sink, back_at)
    figures.update(
        at_fault=at_fault, downtime_s=round(back_at - fault_at, 1),
        first_message_after_restart_s=round(resumed_at - back_at, 1) if resumed_at else None,
        done_after_restart_s=round(done_at - back_at, 1), total_s=round(done_at - started, 1),
        worker_db_errors=len(re.findall(r"OperationalError|InterfaceError|Could not record", log)),
    )
    report("postgresql-restart", figures)


def test_redis_restart_mid_send_resumes_and_completes(fault_stack, archive, schedule_dir):
    """Redis restarts without persistence: every queued task and the throttle counters are gone.

    Now and then (3 runs in 9 here) the worker's main process does not survive the lost broker
    connection: kombu's Redis transport raises ``AttributeError: 'NoneType' object has no attribute 'hostname'``
    while restoring unacknowledged messages, Celery logs "Unrecoverable error" and the worker exits. That is a
    Celery/kombu bug, and the reason production workers run under a supervisor that restarts them
    (docs/reliability.md). The test plays that supervisor: it starts a replacement worker if the first one died,
    and reports it.
    """
    send, emails = new_send(archive, "redisrestart")
    started = time.monotonic()
    logs: list[str] = []
    replacements = 0
    with contextlib.ExitStack() as stack:
        sink = stack.enter_context(SMTPSink())
        stack.enter_context(fault_stack.producer())
        worker = stack.enter_context(fault_stack.worker(sink, schedule_dir=schedule_dir))
        start_send.delay(send.pk)
        wait_for(lambda: len(sink.messages) >= FAULT_AFTER, timeout=60,
                 message=f"the send did not get going:\n{read_log(worker)[-4000:]}")
        at_fault = len(sink.messages)
        fault_at = time.monotonic()
        fault_stack.redis.restart(downtime=3)
        back_at = time.monotonic()
        deadline = back_at + 60
        while send_status(send) != Send.Status.DONE:
            if worker.poll() is not None and replacements == 0:  # the supervisor's job: start it again
                logs.append(read_log(worker))
                replacements += 1
                worker = stack.enter_context(fault_stack.worker(sink, schedule_dir=schedule_dir, purge=False))
            if time.monotonic() > deadline:
                pytest.fail(f"the send did not complete after the fault:\n{read_log(worker)[-4000:]}")
            time.sleep(0.3)
        time.sleep(0.5)
        done_at = time.monotonic()
        logs.append(read_log(worker))
    assert at_fault < RECIPIENTS, "the send finished before the fault; slow it down"
    figures = sink_count_check(send, emails, sink.recipients)
    resumed_at = first_arrival_after(sink, back_at)
    log = "\n".join(logs)
    figures.update(
        at_fault=at_fault, downtime_s=round(back_at - fault_at, 1),
        first_message_after_restart_s=round(resumed_at - back_at, 1) if resumed_at else None,
        done_after_restart_s=round(done_at - back_at, 1), total_s=round(done_at - started, 1),
        broker_reconnects=log.count("Trying to re-establish the connection"),
        worker_died=replacements, unrecoverable_errors=log.count("Unrecoverable error"),
    )
    report("redis-restart", figures)


OUTAGE_SECONDS = 30
OUTAGE_RESULTS: dict = {}  # what the outage test saw, for the backoff check below
NEXT_TRY = re.compile(r"Send \d+: next try in ([0-9.]+) s")


def test_mail_server_down_for_30_seconds_backs_off_then_completes(fault_stack, archive, schedule_dir):
    send, emails = new_send(archive, "smtpdown")
    started = time.monotonic()
    first_sink = SMTPSink().start()
    port = first_sink.port
    second_sink = SMTPSink(port=port)
    try:
        with fault_stack.producer(), fault_stack.worker(first_sink, schedule_dir=schedule_dir) as worker:
            start_send.delay(send.pk)
            wait_for(lambda: len(first_sink.messages) >= FAULT_AFTER, timeout=60,
                     message=f"the send did not get going:\n{read_log(worker)[-4000:]}")
            first_sink.stop()  # connection refused from now on
            down_at = time.monotonic()
            at_fault = len(first_sink.messages)
            time.sleep(OUTAGE_SECONDS)
            log_during_outage = read_log(worker)
            second_sink.start()
            back_at = time.monotonic()
            wait_until_done(send, worker, timeout=60)
            done_at = time.monotonic()
            log = read_log(worker)
    finally:
        first_sink.stop()
        second_sink.stop()
    assert at_fault < RECIPIENTS, "the send finished before the outage; slow it down"
    figures = sink_count_check(send, emails, first_sink.recipients + second_sink.recipients)

    # Backoff, as the worker log shows it: batches interrupted by the refused connection, and the task waiting
    # before each next try instead of spinning; the rows it gave back were retried more than once.
    interruptions = log_during_outage.count("batch interrupted")
    waits = [float(seconds) for seconds in NEXT_TRY.findall(log_during_outage)]
    assert interruptions >= 2, f"no interrupted batches logged during the outage:\n{log_during_outage[-3000:]}"
    assert waits and min(waits) >= 0.5, f"no backoff logged during the outage:\n{log_during_outage[-3000:]}"
    assert "Connection refused" in log_during_outage
    retried = Delivery.objects.filter(send=send, attempts__gte=2).count()
    assert retried > 0, "no delivery was retried"
    OUTAGE_RESULTS.update(connection_attempts=interruptions, outage_s=OUTAGE_SECONDS)
    resumed_at = first_arrival_after(second_sink, back_at)
    figures.update(
        at_fault=at_fault, outage_s=round(back_at - down_at, 1), interrupted_batches=log.count("batch interrupted"),
        connection_attempts_during_outage=interruptions, waits_logged=len(waits),
        wait_range_s=[min(waits), max(waits)], deliveries_retried=retried,
        max_attempts=max(Delivery.objects.filter(send=send).values_list("attempts", flat=True)),
        first_message_after_return_s=round(resumed_at - back_at, 1) if resumed_at else None,
        done_after_return_s=round(done_at - back_at, 1), total_s=round(done_at - started, 1),
    )
    report("smtp-outage", figures)


def test_a_dead_mail_server_is_tried_less_and_less_often(fault_stack):
    """Reads what the outage test above recorded (no second 30-second outage)."""
    if not OUTAGE_RESULTS:
        pytest.skip("the outage test did not run")
    # Exponential backoff from 2 s, capped at 8 s, is about 6 tries in 30 s; allow that for each of the
    # (at most) four lanes that may be running.
    assert OUTAGE_RESULTS["connection_attempts"] <= 6 * 4, OUTAGE_RESULTS


def test_an_outage_longer_than_the_retry_budget_still_loses_nobody(fault_stack, archive, schedule_dir):
    """The same outage story with a small retry budget (3 attempts, 1-2 s apart), so it plays out in seconds."""
    send, emails = new_send(archive, "budget", recipients=60)
    sink = SMTPSink()  # not started: the mail server is down from the beginning
    try:
        with fault_stack.producer(), fault_stack.worker(sink, schedule_dir=schedule_dir, NEWSLETTER_MAX_ATTEMPTS=3,
                                                        NEWSLETTER_RETRY_BASE_SECONDS=1,
                                                        NEWSLETTER_RETRY_MAX_SECONDS=2) as worker:
            start_send.delay(send.pk)
            time.sleep(8)
            sink.start()
            settled = (Send.Status.DONE, Send.Status.PAUSED)
            wait_for(lambda: send_status(send) in settled, timeout=30,
                     message=f"the send neither finished nor paused:\n{read_log(worker)[-3000:]}")
            time.sleep(0.5)
    finally:
        sink.stop()
    failed = Delivery.objects.filter(send=send, status=Delivery.Status.FAILED).count()
    assert failed == 0, f"{failed} of {len(emails)} recipients marked failed by a mail server outage"
    sink_count_check(send, emails, sink.recipients)
