"""Mailchimp audience sync benchmark: batch sync against a per-member PUT baseline, on this machine.

    .venv/bin/python bench/mailchimp_sync.py                       # 10,000 subscribers, 50 ms per request
    .venv/bin/python bench/mailchimp_sync.py --baseline-sample 0   # baseline PUTs every member (slow)

Needs PostgreSQL on 127.0.0.1. It migrates a scratch database (``BENCH_DATABASE_URL``, default
``portal_mc_bench``, recreated), creates N confirmed subscribers with topics, starts the fake Mailchimp on
loopback with the given latency per request, and measures in the same run:

- baseline: one ``PUT /lists/{id}/members/{hash}`` per subscriber through the same official client, with
  Mailchimp's 10 connections in parallel (on a sample of members, extrapolated, unless --baseline-sample 0);
- the sync: ``run_sync()`` on an empty audience (one-time set-up of merge fields and topic interests counted
  apart), then a second run with nothing changed.

It prints HTTP calls made, wall time, and the ratio of the baseline to the sync.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = "postgres://postgres@127.0.0.1:5432"
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", f"{PG}/portal_mc_bench")


def prepare_database() -> None:
    name = DATABASE_URL.rsplit("/", 1)[1]
    server = DATABASE_URL.rsplit("/", 1)[0]
    subprocess.run(["psql", server + "/postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
    subprocess.run(["psql", server + "/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    env = dict(os.environ, DATABASE_URL=DATABASE_URL, DJANGO_SETTINGS_MODULE="portal.settings.dev")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True, env=env)


def django_setup() -> None:
    os.environ["DATABASE_URL"] = DATABASE_URL
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.dev"
    os.environ.pop("CACHE_URL", None)  # a local-memory cache: connection slots stay in this process
    import django

    django.setup()


def create_subscribers(count: int) -> None:
    from django.utils import timezone

    from newsletter.models import Subscriber
    from portal.core.models import Topic

    topics = [Topic.objects.get_or_create(slug=slug, defaults={"name": name})[0]
              for slug, name in (("prevention", "Prevention"), ("notice-and-takedown", "Notice and takedown"))]
    now = timezone.now()
    Subscriber.objects.bulk_create([
        Subscriber(email=f"bench{n}@example.org", status=Subscriber.Status.SUBSCRIBED, confirmed_at=now,
                   language="en")
        for n in range(count)], batch_size=2000)
    through = Subscriber.topics.through
    ids = list(Subscriber.objects.values_list("id", flat=True))
    through.objects.bulk_create([through(subscriber_id=pk, topic_id=topics[pk % 2].pk) for pk in ids[::3]],
                                batch_size=2000)


def baseline(fake, count: int, sample: int) -> tuple[int, float, float]:
    """Per-member PUTs with 10 parallel connections. Returns (calls, measured seconds, seconds for ``count``)."""
    from newsletter.mailchimp.client import get_client, subscriber_hash
    from newsletter.models import Subscriber

    api = get_client()
    emails = list(Subscriber.objects.order_by("id").values_list("email", flat=True))
    chosen = emails if not sample else emails[:sample]

    def put(email):
        body = {"email_address": email, "status_if_new": "subscribed", "status": "subscribed",
                "merge_fields": {"FREQUENCY": "every_issue"}, "language": "en"}
        api.call(lambda c: c.lists.set_list_member(fake.list_id, subscriber_hash(email), body))

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(put, chosen))
    elapsed = time.perf_counter() - started
    return len(chosen), elapsed, elapsed * count / len(chosen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds added to every request")
    parser.add_argument("--baseline-sample", type=int, default=1000,
                        help="members PUT in the baseline, extrapolated to all (0: PUT every member)")
    args = parser.parse_args()

    prepare_database()
    django_setup()
    from django.conf import settings

    from newsletter.mailchimp import sync
    from newsletter.mailchimp.client import get_client
    from newsletter.models import MailchimpSyncState
    from tests.fakes.mailchimp import FakeMailchimp

    create_subscribers(args.subscribers)
    print(f"{args.subscribers} subscribers, {args.latency * 1000:.0f} ms latency per request")

    with FakeMailchimp(latency=args.latency) as fake:
        settings.MAILCHIMP_API_KEY = fake.api_key
        settings.MAILCHIMP_AUDIENCE_ID = fake.list_id
        settings.MAILCHIMP_API_BASE = fake.base_url

        # Baseline on a scratch audience, so the sync below starts from an empty one.
        fake.add_list("baseline")
        real_list, fake.list_id = fake.list_id, "baseline"
        base_calls, base_measured, base_seconds = baseline(fake, args.subscribers, args.baseline_sample)
        fake.list_id = real_list
        per_member = args.subscribers  # one PUT per member
        how = "measured" if base_calls == args.subscribers else f"{base_calls} measured in {base_measured:.1f} s, " \
            "extrapolated"
        print(f"baseline (per-member PUT, 10 connections): {per_member} calls, {base_seconds:.1f} s ({how})")

        api = get_client()
        state = sync.state_for()
        started = time.perf_counter()
        setup_calls = sync.ensure_setup(api, state)
        setup_seconds = time.perf_counter() - started
        print(f"one-time set-up (merge field, topic interests): {setup_calls} calls, {setup_seconds:.2f} s")

        fake.reset_calls()
        api = get_client()
        started = time.perf_counter()
        first = sync.run_sync(api=api)
        first_seconds = time.perf_counter() - started
        first_calls = len(fake.calls)
        assert len(fake.lists[real_list].members) == args.subscribers, "not everyone arrived"
        print(f"first sync: {first_calls} calls ({first.batches} batches), {first_seconds:.2f} s, "
              f"pushed {first.pushed}")

        fake.reset_calls()
        started = time.perf_counter()
        second = sync.run_sync(api=get_client())
        second_seconds = time.perf_counter() - started
        second_calls = len(fake.calls)
        print(f"second sync, nothing changed: {second_calls} calls, {second_seconds:.2f} s, pushed {second.pushed}")

        print(f"ratio (baseline / sync): {per_member / first_calls:.0f}x fewer calls, "
              f"{base_seconds / first_seconds:.1f}x faster")
        ok = first_calls <= 21 and second_calls <= 2
        print(f"targets (<= 21 calls for 10k, <= 2 unchanged): {'met' if ok else 'NOT met'}")
        MailchimpSyncState.objects.all().delete()


if __name__ == "__main__":
    main()
