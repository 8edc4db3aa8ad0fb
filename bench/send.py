"""Newsletter delivery benchmark: the Celery pipeline against a plain smtplib loop, on this machine.

    .venv/bin/python bench/send.py                 # 10,000 recipients, 1 and 2 workers
    .venv/bin/python bench/send.py --large         # also 100,000 recipients (RSS must stay flat)

Needs PostgreSQL and Redis on 127.0.0.1 (as CI has). It creates a scratch database ``portal_bench``, a
confirmed subscriber per recipient and one issue, starts an SMTP sink on loopback (aiosmtpd, counting only),
then measures in the same run:

- baseline: the same pre-rendered messages sent by one ``smtplib`` connection in a loop (this machine's
  practical limit for one sender);
- the pipeline: ``start_send`` on a real broker, 1 and then 2 worker processes, until the Send is done.

It prints messages per second, the ratio to the baseline and the workers' peak resident memory. Then two slow
sends with 2 workers, where a lane's batch outlasts nothing but must never give anyone a second copy:

- throttled: 600 recipients at ``NEWSLETTER_RATE_PER_SECOND=2`` (a new sending domain warming up; ~5 minutes);
- tarpit: 600 recipients, the sink answering each message after 1 s (greylisting receivers, busy relays);

each printed with the time taken and the duplicates counted at the sink (must be 0). ``--skip-slow`` leaves
them out.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import signal
import smtplib
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench._common import group_pids, rss_kib  # noqa: E402 - after the path set-up above

DB_NAME = os.environ.get("BENCH_DB_NAME", "portal_bench")
PG = "postgres://postgres@127.0.0.1:5432"
BROKER = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/7")


# --- SMTP sink: accepts and counts, nothing more ---------------------------------------------------------------


class CountingHandler:
    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()
        self.delay = 0.0  # seconds before answering each message (a tarpit)
        self.recipients: collections.Counter | None = None  # per-recipient counts, when duplicates matter

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.count += len(envelope.rcpt_tos)
            if self.recipients is not None:
                self.recipients.update(envelope.rcpt_tos)
        return "250 OK"


def start_sink():
    import logging

    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # a log line per SMTP command would be the bottleneck

    from tests.smtp_sink import free_port

    handler = CountingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller, handler


# --- Setup --------------------------------------------------------------------------------------------------------


def prepare_database(recipients: int) -> None:
    subprocess.run(["psql", PG + "/postgres", "-qc", f"DROP DATABASE IF EXISTS {DB_NAME}"], check=True)
    subprocess.run(["psql", PG + "/postgres", "-qc", f"CREATE DATABASE {DB_NAME}"], check=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True, env=os.environ)


def django_setup() -> None:
    import django

    django.setup()


def create_audience(recipients: int):
    from newsletter.models import Subscriber
    from tests.factories import make_site_home
    from tests.newsletter.issue_factories import NewsletterIndexPageFactory, make_issue

    Subscriber.objects.all().delete()
    batch = 5000
    for start in range(0, recipients, batch):
        Subscriber.objects.bulk_create(
            [Subscriber(email=f"bench{n:06d}@example.org", status=Subscriber.Status.SUBSCRIBED)
             for n in range(start, min(recipients, start + batch))]
        )
    from newsletter.models import NewsletterIndexPage

    archive = NewsletterIndexPage.objects.first()  # a second size in the same run reuses the site
    if archive is None:
        archive = NewsletterIndexPageFactory(parent=make_site_home())
    return archive, make_issue


# --- Baseline -----------------------------------------------------------------------------------------------------


def baseline(issue, port: int, handler: CountingHandler) -> float:
    """Pre-render every message (not timed), then time one smtplib connection sending them all."""
    from newsletter.backends.smtp import SMTPBackend
    from newsletter.models import Send, Subscriber
    from newsletter.services import rendering

    rendered = rendering.render_issue(issue)
    send = Send(rendered_subject=rendered.subject, rendered_html=rendered.html, rendered_text=rendered.text)
    backend = SMTPBackend()
    payloads = []
    for subscriber in Subscriber.objects.order_by("id").only("id", "email", "token_key").iterator(chunk_size=5000):
        message = rendering.personalise(send, delivery_id=subscriber.pk, email=subscriber.email, subscriber=subscriber)
        email = backend.build_email(message, connection=None)
        payloads.append((email.from_email, [subscriber.email], email.message().as_bytes(linesep="\r\n")))
    before = handler.count
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for sender, to, payload in payloads:
            connection.sendmail(sender, to, payload)
    elapsed = time.perf_counter() - started
    assert handler.count - before == len(payloads)
    return len(payloads) / elapsed


# --- Pipeline -----------------------------------------------------------------------------------------------------


def start_workers(count: int, port: int, **extra_env) -> list[subprocess.Popen]:
    env = {
        **os.environ,
        **extra_env,
        "CELERY_BROKER_URL": BROKER,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "NEWSLETTER_PARALLEL_BATCHES": str(count),
        "LOG_LEVEL": "WARNING",
    }
    workers = []
    for index in range(count):
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=prefork", "--concurrency=1",
             "-n", f"bench{index}@localhost", "--without-gossip", "--without-mingle", "--loglevel=WARNING"],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        ))
    from portal.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=0.5) or []
        if len(replies) >= count:
            return workers
    raise RuntimeError("workers did not start")


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for proc in workers:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    for proc in workers:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def pipeline(issue, workers_count: int, port: int, handler: CountingHandler, recipients: int,
             **worker_env) -> tuple[float, int]:
    from newsletter.models import Send
    from newsletter.services import dispatch
    from newsletter.tasks import start_send

    Send.objects.filter(issue=issue).delete()
    workers = start_workers(workers_count, port, **worker_env)
    peak = 0
    try:
        before = handler.count
        send, _ = dispatch.create_send(issue)
        started = time.perf_counter()
        start_send.delay(send.pk)
        while Send.objects.filter(pk=send.pk).values_list("status", flat=True).first() != Send.Status.DONE:
            peak = max(peak, rss_kib([pid for proc in workers for pid in group_pids(proc.pid)]))
            time.sleep(0.25)
            if time.perf_counter() - started > 1800:
                raise RuntimeError("send did not finish in 30 minutes")
        elapsed = time.perf_counter() - started
        delivered = handler.count - before
        assert delivered >= recipients, f"only {delivered} of {recipients} delivered"
    finally:
        stop_workers(workers)
    return recipients / elapsed, peak


def run(recipients: int, port: int, handler: CountingHandler) -> list[tuple]:
    from newsletter.models import Audience

    archive, make_issue = create_audience(recipients)
    issue = make_issue(archive, audience=Audience.PUBLIC, subject=f"Benchmark issue for {recipients}")
    base = baseline(issue, port, handler)
    rows = [(recipients, "baseline: smtplib loop, 1 connection", base, 1.0, None)]
    for count in (1, 2):
        rate, peak = pipeline(issue, count, port, handler, recipients)
        rows.append((recipients, f"pipeline: {count} worker{'s' if count > 1 else ''}", rate, rate / base, peak))
    return rows


SLOW_RECIPIENTS = 600


def slow_runs(port: int, handler: CountingHandler) -> list[tuple]:
    """Throttled and tarpit sends with 2 workers: (label, seconds, recipients served, duplicates at the sink)."""
    from newsletter.models import Audience

    archive, make_issue = create_audience(SLOW_RECIPIENTS)
    cache = BROKER.rsplit("/", 1)[0] + "/8"  # the throttle is shared by every worker through the cache
    runs = [("throttled: 2 msg/s", {"NEWSLETTER_RATE_PER_SECOND": "2", "CACHE_URL": cache}, 0.0),
            ("tarpit: sink answers in 1 s", {}, 1.0)]
    rows = []
    for label, env, delay in runs:
        issue = make_issue(archive, audience=Audience.PUBLIC, subject=f"Benchmark issue, {label}")
        handler.recipients, handler.delay = collections.Counter(), delay
        try:
            rate, _peak = pipeline(issue, 2, port, handler, SLOW_RECIPIENTS, **env)
        finally:
            counts, handler.recipients, handler.delay = handler.recipients, None, 0.0
        time.sleep(1.5)  # messages the sink is still answering
        rows.append((label, SLOW_RECIPIENTS / rate, len(counts), sum(n - 1 for n in counts.values())))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--large", action="store_true", help="also run with 100,000 recipients")
    parser.add_argument("--skip-slow", action="store_true", help="leave out the throttled and tarpit runs")
    args = parser.parse_args()

    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "portal.settings.dev",
        "DEBUG": "false",  # as in production: debug mode keeps every SQL query in memory
        "DATABASE_URL": f"{PG}/{DB_NAME}",
        "CELERY_BROKER_URL": BROKER,
        "NEWSLETTER_RATE_PER_SECOND": "",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    })
    prepare_database(args.recipients)
    django_setup()
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    controller, handler = start_sink()
    from django.conf import settings

    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    sizes = [args.recipients] + ([100_000] if args.large else [])
    rows, slow = [], []
    try:
        for size in sizes:
            rows.extend(run(size, controller.port, handler))
        if not args.skip_slow:
            slow = slow_runs(controller.port, handler)
    finally:
        controller.stop()
    from newsletter.services.dispatch import batch_size, lanes_per_task

    print(f"\nEach worker: one Celery process (prefork, concurrency 1) working {lanes_per_task()} batches of "
          f"{batch_size()} at once (NEWSLETTER_CONNECTIONS_PER_TASK, NEWSLETTER_BATCH_SIZE).")
    print(f"\n{'recipients':>10}  {'run':<38} {'msg/s':>9} {'ratio':>6} {'peak worker RSS':>16}")
    for size, label, rate, ratio, peak in rows:
        rss = f"{peak / 1024:.0f} MiB" if peak else "-"
        print(f"{size:>10}  {label:<38} {rate:>9.0f} {ratio:>6.2f} {rss:>16}")
    if slow:
        print(f"\nSlow sends, 2 workers, {SLOW_RECIPIENTS} recipients (duplicates must be 0):")
        print(f"{'run':<32} {'seconds':>8} {'served':>7} {'duplicates':>11}")
        for label, seconds, served, duplicates in slow:
            print(f"{label:<32} {seconds:>8.1f} {served:>7} {duplicates:>11}")
    asyncio.set_event_loop(None)


if __name__ == "__main__":
    main()
