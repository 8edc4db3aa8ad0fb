"""Proof across hosts: the portal's sending run as separate hosts in network namespaces (see ``hosts.py``).

One host holds PostgreSQL and Redis, two are worker hosts, one runs beat; this test process is the mail sink.
Each case ends with the count check: everyone served, duplicates no more than the messages the failing host had
in flight, and the ledger's figures equal to the sink's wherever no process died.

(a) 10,000 recipients, both worker hosts sending, one host killed (SIGKILL) mid-send;
(b) one worker host cut off from the database host (and so from Redis) for a minute while it still reaches
    the mail sink, then healed;
(c) the mail sink slowed to 2 s per message for a while.

Figures are printed (``pytest -s``) and quoted in ``docs/reliability.md``.
"""

from __future__ import annotations

import collections
import contextlib
import json
import time

from django.db import connection
from django.db.models import Count

import pytest

from newsletter.models import Audience, Delivery, Send, Subscriber
from newsletter.services import dispatch
from newsletter.tasks import start_send
from tests.faults.conftest import copy_database, db_read, require_fault_tools
from tests.faults.hosts import HostPostgres, HostRedis, Network, require_namespaces, start_celery
from tests.newsletter.issue_factories import NewsletterIndexPageFactory, make_issue
from tests.services import celery_producer, restore_wagtail_base_data, services_required, wait_for
from tests.smtp_sink import SMTPSink

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

LANES = 2  # per task
TASKS_PER_HOST = 2  # worker concurrency
#: Messages one host may have accepted at the mail server but not yet in the ledger: per lane, the marks its
#: writer may be behind (dispatch.MAX_UNWRITTEN_MARKS) and the message being handed over.
IN_FLIGHT_PER_HOST = LANES * TASKS_PER_HOST * (dispatch.MAX_UNWRITTEN_MARKS + 1)

HOST_ENV = {
    "NEWSLETTER_BACKEND": "smtp",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "EMAIL_TIMEOUT": "5",
    "NEWSLETTER_BATCH_SIZE": "50",
    "NEWSLETTER_LEASE_SECONDS": "8",
    "NEWSLETTER_TICK_SECONDS": "1",
    "NEWSLETTER_TASK_BUDGET": "5",
    "NEWSLETTER_PARALLEL_BATCHES": str(2 * TASKS_PER_HOST),
    "NEWSLETTER_CONNECTIONS_PER_TASK": str(LANES),
    "NEWSLETTER_RATE_PER_SECOND": "",
    "NEWSLETTER_RETRY_BASE_SECONDS": "2",
    "NEWSLETTER_RETRY_MAX_SECONDS": "8",
    "NEWSLETTER_MAX_ATTEMPTS": "10",
    "CELERY_VISIBILITY_TIMEOUT": "30",
    # A host cut off from the database notices within seconds, not the kernel's 15 minutes.
    "DATABASE_CONNECT_TIMEOUT": "3",
    "DATABASE_TCP_USER_TIMEOUT_MS": "5000",
}


class HostStack:
    def __init__(self, network: Network, postgres: HostPostgres, redis: HostRedis):
        self.network, self.postgres, self.redis = network, postgres, redis
        self.processes = []

    @property
    def broker_url(self) -> str:
        return self.redis.url(0)

    def env(self, sink: SMTPSink, **extra) -> dict[str, str]:
        return {**HOST_ENV, "DATABASE_URL": f"postgres://postgres@{self.postgres.host}:{self.postgres.port}/hosts",
                "CELERY_BROKER_URL": self.broker_url, "CACHE_URL": self.redis.url(1), "EMAIL_HOST": sink.host,
                "EMAIL_PORT": str(sink.port), **{key: str(value) for key, value in extra.items()}}

    def start(self, host: str, role: str, sink: SMTPSink, **extra):
        process = start_celery(self.network, host, role, self.env(sink, **extra), self.broker_url,
                               concurrency=TASKS_PER_HOST)
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            process.stop()
        self.processes.clear()

    def logs(self) -> str:
        return "\n".join(f"--- {p.host} ---\n{p.log()[-2500:]}" for p in self.processes)


@pytest.fixture(scope="module")
def host_stack(django_db_setup, django_db_blocker):
    require_namespaces()
    bin_dir = require_fault_tools()
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            pytest.skip("needs a PostgreSQL test database to copy") if not services_required() else pytest.fail(
                "REQUIRE_SERVICES=1: the hosts test needs a PostgreSQL test database (DATABASE_URL)")
        original = dict(connection.settings_dict)
    network = Network()
    postgres = redis_server = None
    try:
        network.create()
        postgres = HostPostgres(bin_dir, network).create()
        copy_database(original, postgres, "hosts")
        redis_server = HostRedis(network)
        redis_server.start()
    except Exception as exc:
        for part in (redis_server, postgres):
            if part is not None:
                part.destroy()
        network.destroy()
        if services_required():
            raise
        pytest.skip(f"could not build the hosts: {exc}")
    stack = HostStack(network, postgres, redis_server)
    with django_db_blocker.unblock():
        connection.close()
        connection.settings_dict.update(NAME="hosts", HOST=postgres.host, PORT=str(postgres.port), USER="postgres",
                                        PASSWORD="")
        try:
            yield stack
        finally:
            stack.stop_all()
            with contextlib.suppress(Exception):
                connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(original)
            redis_server.destroy()
            postgres.destroy()
            network.destroy()


@pytest.fixture
def archive(host_stack):
    from tests.factories import make_site_home

    restore_wagtail_base_data()
    return NewsletterIndexPageFactory(parent=make_site_home())


@pytest.fixture
def sink(host_stack):
    with SMTPSink(host=host_stack.network.address("test")) as running:
        yield running


def new_send(archive, label: str, recipients: int) -> tuple[Send, list[str]]:
    Subscriber.objects.filter(status=Subscriber.Status.SUBSCRIBED).update(status=Subscriber.Status.UNSUBSCRIBED)
    emails = [f"{label}{n:05d}@example.org" for n in range(recipients)]
    for start in range(0, recipients, 5000):
        Subscriber.objects.bulk_create([Subscriber(email=email, status=Subscriber.Status.SUBSCRIBED)
                                        for email in emails[start:start + 5000]])
    send, _ = dispatch.create_send(make_issue(archive, audience=Audience.PUBLIC, subject=f"Hosts: {label}",
                                              slug=f"hosts-{label}"))
    return send, emails


def wait_until_done(stack: HostStack, send: Send, timeout: float) -> None:
    status = lambda: db_read(lambda: Send.objects.filter(pk=send.pk).values_list("status", flat=True).first())  # noqa: E731
    wait_for(lambda: status() == Send.Status.DONE, timeout=timeout, interval=0.5,
             message=f"the send did not finish:\n{stack.logs()}")


def count_check(send: Send, emails: list[str], sink: SMTPSink, *, bound: int) -> dict:
    """Everyone served once at least, nobody else; duplicates within ``bound``. Returns the figures."""
    counts = collections.Counter(sink.recipients)
    missing = set(emails) - set(counts)
    assert not missing, f"{len(missing)} recipients never received the issue"
    assert set(counts) == set(emails), "mail went to addresses outside the audience"
    duplicates = sum(n - 1 for n in counts.values())
    assert duplicates <= bound, f"{duplicates} duplicates: more than the {bound} messages in flight"
    ledger = dict(Delivery.objects.filter(send=send).values_list("status").annotate(n=Count("id")))
    assert ledger == {Delivery.Status.SENT: len(emails)}, ledger
    figures = dispatch.progress(send)
    return {"recipients": len(emails), "received": len(sink.recipients), "duplicates": duplicates,
            "ledger_accepted": figures["accepted"], "ledger_possible_duplicates": figures["possible_duplicates"],
            "ledger_taken_back": figures["taken_back"], "ledger_handed_over": figures["handed_over"]}


def report(name: str, figures: dict) -> None:
    print(f"\nHOSTS FIGURES {name}: {json.dumps(figures)}")


def test_a_worker_host_killed_mid_send_of_10000(host_stack, archive, sink):
    send, emails = new_send(archive, "killed", 10_000)
    started = time.monotonic()
    with celery_producer(host_stack.broker_url):
        doomed = host_stack.start("w1", "worker", sink)
        host_stack.start("w2", "worker", sink)
        host_stack.start("beat", "beat", sink)
        start_send.delay(send.pk)
        wait_for(lambda: len(sink.messages) >= 3000, timeout=180,
                 message=f"the send did not get going:\n{host_stack.logs()}")
        doomed.kill()
        at_kill = len(sink.messages)
        wait_until_done(host_stack, send, timeout=300)
        time.sleep(1)
    host_stack.stop_all()
    assert at_kill < len(emails), "the send finished before the kill"
    figures = count_check(send, emails, sink, bound=IN_FLIGHT_PER_HOST)
    # Copies the ledger knows of are real; the killed host's in-flight ones it cannot know.
    assert figures["ledger_possible_duplicates"] <= figures["duplicates"]
    assert figures["ledger_accepted"] <= figures["received"] <= figures["ledger_accepted"] + IN_FLIGHT_PER_HOST
    figures.update(killed_at=at_kill, total_s=round(time.monotonic() - started, 1))
    report("host-killed", figures)


def test_a_worker_host_cut_off_from_the_database_for_a_minute(host_stack, archive, sink):
    send, emails = new_send(archive, "cutoff", 3000)
    env = {"NEWSLETTER_RATE_PER_SECOND": 30}  # ~100 s in all: the cut lands mid-send and lasts a minute
    started = time.monotonic()
    with celery_producer(host_stack.broker_url):
        host_stack.start("w1", "worker", sink, **env)
        cut_off = host_stack.start("w2", "worker", sink, **env)
        host_stack.start("beat", "beat", sink, **env)
        start_send.delay(send.pk)
        wait_for(lambda: len(sink.messages) >= 600, timeout=120,
                 message=f"the send did not get going:\n{host_stack.logs()}")
        host_stack.network.cut("w2", "db")  # it still reaches the mail sink
        at_cut = len(sink.messages)
        time.sleep(60)
        during_cut = len(sink.messages) - at_cut
        host_stack.network.heal("w2", "db")
        wait_until_done(host_stack, send, timeout=240)
        # The cut-off host records what it sent while it could not: wait for its marks to land.
        wait_for(lambda: dispatch.progress(send)["accepted"] >= len(sink.recipients), timeout=90, interval=1,
                 message=f"the ledger never caught up with the sink:\n{host_stack.logs()}")
        w2_log = cut_off.log()
        w2_alive = cut_off.process.poll() is None
    host_stack.stop_all()
    figures = count_check(send, emails, sink, bound=IN_FLIGHT_PER_HOST)
    assert figures["ledger_accepted"] == figures["received"], "the ledger and the sink disagree"
    assert figures["ledger_possible_duplicates"] == figures["duplicates"]
    figures.update(at_cut=at_cut, received_during_cut=during_cut, w2_survived=w2_alive,
                   w2_lane_stops=w2_log.count("lane stopped"), total_s=round(time.monotonic() - started, 1))
    report("host-cut-off", figures)


def test_the_mail_sink_slowed_to_two_seconds_a_message(host_stack, archive, sink):
    send, emails = new_send(archive, "tarpit", 1000)
    started = time.monotonic()
    with celery_producer(host_stack.broker_url):
        host_stack.start("w1", "worker", sink)
        host_stack.start("w2", "worker", sink)
        host_stack.start("beat", "beat", sink)
        start_send.delay(send.pk)
        wait_for(lambda: len(sink.messages) >= 200, timeout=120,
                 message=f"the send did not get going:\n{host_stack.logs()}")
        sink.delay = 2.0  # for 30 s: several leases long (8 s)
        slow_from = len(sink.messages)
        time.sleep(30)
        sink.delay = 0.0
        during_slow = len(sink.messages) - slow_from
        wait_until_done(host_stack, send, timeout=180)
        time.sleep(1)
    host_stack.stop_all()
    figures = count_check(send, emails, sink, bound=0)  # nothing died: nobody gets a second copy
    assert figures["ledger_accepted"] == figures["received"]
    figures.update(received_while_slow=during_slow, total_s=round(time.monotonic() - started, 1))
    report("sink-slowed", figures)
