"""Soak: a bounded mixed load for five minutes while a newsletter is sent in the background; memory sampled.

    .venv/bin/python bench/soak.py                       # 300 s
    .venv/bin/python bench/soak.py --seconds 60 --reuse  # a quick look, on bench/pages.py's database

gunicorn (2 sync workers, production settings, page cache on) on PostgreSQL and one Celery worker, both on this
benchmark's Redis database, with an SMTP sink on loopback. While a send of ``--recipients`` messages runs
(throttled to ``--send-rate`` per second so it lasts most of the soak), 4 client threads request, in turn, the
home page, an article, the 50-child index, the RSS feed, a search, the static file and a newsletter signup (a
new address each time). Every 10 s the resident memory (RSS) of the web processes (gunicorn master and
workers) and of the worker processes is sampled.

Reports the error rate (any connection error, 5xx or unexpected status), the memory growth of each group from
the first sample after a 30-s warm-up to the last one (goal: 0 errors, growth < 10%), and whether the send
delivered to every recipient (counted from its Delivery rows).
Writes ``var/bench/soak.json``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    PG,
    PYTHON,
    REDIS_URL,
    ROOT,
    Server,
    csrf_pair,
    free_port,
    group_pids,
    http_request,
    load_or_prepare_site,
    rss_kib,
    server_env,
    sql_value,
    stop_group,
    write_json,
)

DB_NAME = "portal_bench_pages"
LIMITS = {"NEWSLETTER_RATE_LIMIT_IP": "1000000/3600", "NEWSLETTER_RATE_LIMIT_ADDRESS": "1000000/3600"}
WARM_UP = 30


class Sink:
    """An SMTP server on loopback that accepts and counts."""

    def __init__(self):
        import logging

        from aiosmtpd.controller import Controller

        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self.count = 0
        self.port = free_port()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                sink.count += len(envelope.rcpt_tos)
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        self.controller.stop()


def start_send(env: dict, recipients: int) -> int:
    """Create ``recipients`` confirmed subscribers and a public issue, then start its send; returns the Send id."""
    script = f"""
from newsletter.models import Audience, NewsletterIndexPage, Subscriber
from newsletter.services import dispatch
from newsletter.tasks import start_send
from tests.newsletter.issue_factories import make_issue
Subscriber.objects.filter(email__startswith="soak").delete()
for start in range(0, {recipients}, 5000):
    Subscriber.objects.bulk_create([Subscriber(email=f"soak{{n:06d}}@example.org", status=Subscriber.Status.SUBSCRIBED)
                                    for n in range(start, min({recipients}, start + 5000))])
archive = NewsletterIndexPage.objects.first()
issue = make_issue(archive, audience=Audience.PUBLIC, subject="Soak issue", slug="soak-issue-{int(time.time())}")
send, _ = dispatch.create_send(issue)
start_send.delay(send.pk)
print(send.pk)
"""
    out = subprocess.run([PYTHON, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout
    return int(out.strip().splitlines()[-1])


def start_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [PYTHON, "-m", "celery", "-A", "portal", "worker", "--pool=prefork", "--concurrency=1", "-n",
         "soak@localhost", "--without-gossip", "--without-mingle", "--loglevel=WARNING"],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=300)
    parser.add_argument("--recipients", type=int, default=5000)
    parser.add_argument("--send-rate", type=int, default=20, help="messages per second for the background send")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--reuse", action="store_true", help="reuse the database bench/pages.py prepared")
    args = parser.parse_args()

    static_root, urls = load_or_prepare_site(DB_NAME, args.reuse)
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    sink = Sink()
    mail = {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend", "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(sink.port), "NEWSLETTER_RATE_PER_SECOND": str(args.send_rate)}
    env = server_env(DB_NAME, page_cache=True, static_root=static_root, extra={**LIMITS, **mail})
    server = Server(env)
    worker = start_worker(env)
    dev_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.dev", "DATABASE_URL": f"{PG}/{DB_NAME}",
               "CELERY_BROKER_URL": REDIS_URL, "CACHE_URL": REDIS_URL, "LOG_LEVEL": "WARNING"}
    samples: list[dict] = []
    statuses: Counter = Counter()
    errors: list[str] = []
    try:
        send_id = start_send(dev_env, args.recipients)
        cookie, token = csrf_pair(server.port)
        run_id = time.strftime("%H%M%S")
        counter = itertools.count()
        lock = threading.Lock()
        stop_at = time.monotonic() + args.seconds

        def signup(index: int):
            body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "email": f"soak-{run_id}-{index}@example.org",
                                           "consent": "on", "language": "en"}).encode()
            return "POST", "/newsletter/subscribe/", body, {
                "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}

        mix = [("GET", urls[name], None, {}) for name in ("home", "article", "index", "rss", "search", "static")]

        def client():
            for step in itertools.count():
                if time.monotonic() >= stop_at:
                    return
                index = next(counter)
                method, path, body, headers = signup(index) if step % 7 == 6 else mix[step % 7]
                try:
                    status, _body, _headers = http_request(server.port, method, path, body, headers, timeout=30)
                except Exception as error:  # a refused or broken connection is an error too
                    status = 0
                    with lock:
                        errors.append(f"{method} {path}: {error!r}")
                with lock:
                    statuses[status] += 1
                    if status and status not in (200, 301, 302, 304):
                        errors.append(f"{method} {path}: {status}")

        threads = [threading.Thread(target=client) for _ in range(args.threads)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        while time.monotonic() < stop_at:
            elapsed = time.monotonic() - started
            samples.append({
                "t": round(elapsed),
                "web_kib": rss_kib(server.pids()),
                "worker_kib": rss_kib(group_pids(worker.pid)),
                "sent": sink.count,
            })
            print(f"t={samples[-1]['t']:>4}s web {samples[-1]['web_kib'] / 1024:7.1f} MiB  worker "
                  f"{samples[-1]['worker_kib'] / 1024:7.1f} MiB  sent {sink.count}", flush=True)
            time.sleep(10)
        for thread in threads:
            thread.join()
        samples.append({"t": round(time.monotonic() - started), "web_kib": rss_kib(server.pids()),
                        "worker_kib": rss_kib(group_pids(worker.pid)), "sent": sink.count})
        # Let the send finish (it was paced to end within the soak), then count its deliveries.
        finish_by = time.monotonic() + 120
        while time.monotonic() < finish_by:
            send_status = sql_value(DB_NAME, f"SELECT status FROM newsletter_send WHERE id = {send_id}")
            if send_status in ("done", "cancelled", "paused", "failed"):
                break
            time.sleep(2)
        delivered = int(sql_value(DB_NAME, f"SELECT count(*) FROM newsletter_delivery WHERE send_id = {send_id} "
                                           "AND status = 'sent'"))
        # The frozen audience: the soak's subscribers plus any the database already had (the demo's).
        audience = int(sql_value(DB_NAME, f"SELECT count(*) FROM newsletter_delivery WHERE send_id = {send_id}"))
    finally:
        server.stop()
        stop_group(worker)
        sink.stop()
        redis.Redis.from_url(REDIS_URL).flushdb()

    total = sum(statuses.values())
    error_rate = len(errors) / total if total else 1.0
    base = next((s for s in samples if s["t"] >= WARM_UP), samples[0])
    last = samples[-1]
    growth = {
        group: (last[f"{group}_kib"] - base[f"{group}_kib"]) / base[f"{group}_kib"] if base[f"{group}_kib"] else 0.0
        for group in ("web", "worker")
    }
    print(f"\nrequests {total}, errors {len(errors)} (rate {error_rate:.4%}), statuses {dict(statuses)}")
    for group in ("web", "worker"):
        print(f"{group:>6} RSS {base[f'{group}_kib'] / 1024:.1f} MiB at {base['t']} s -> "
              f"{last[f'{group}_kib'] / 1024:.1f} MiB at {last['t']} s: growth {growth[group]:+.1%}")
    print(f"background send: {delivered} of {audience} deliveries sent, send status {send_status!r} "
          f"(the sink also took the signups' confirmation emails: {sink.count} messages in all)")
    goals = {"0 errors": not errors, "memory growth < 10%": all(value < 0.10 for value in growth.values()),
             "the send delivered to every recipient": delivered == audience >= args.recipients}
    for goal, met in goals.items():
        print(f"{'met' if met else 'NOT MET':>8}  {goal}")
    for line in errors[:10]:
        print("  error:", line)
    write_json("soak", {
        "seconds": args.seconds, "requests": total, "errors": len(errors), "error_rate": error_rate,
        "statuses": {str(k): v for k, v in statuses.items()}, "samples": samples, "growth": growth,
        "sent": delivered, "sink_messages": sink.count, "recipients": audience, "send_status": send_status,
        "goals": goals,
        "error_examples": errors[:10],
    })


if __name__ == "__main__":
    main()
