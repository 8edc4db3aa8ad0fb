"""Real Celery workers on Redis deliver an issue to a real SMTP server, and survive a hard kill mid-send.

Needs PostgreSQL (the worker is another process) and Redis: skipped without them unless REQUIRE_SERVICES=1.
"""

import collections
import re
import tempfile
import time
from pathlib import Path

from wagtail.models import Locale, Page, Site

import pytest

from newsletter.models import Audience, Delivery, Send, Subscriber
from newsletter.services import dispatch, tokens
from newsletter.tasks import start_send
from tests.factories import make_site_home
from tests.newsletter.factories import SubscriberFactory
from tests.newsletter.issue_factories import NewsletterIndexPageFactory, make_issue
from tests.services import (
    celery_producer,
    celery_worker_process,
    kill_worker,
    require_postgres,
    require_redis,
    restore_wagtail_base_data,
    wait_for,
    worker_log,
)
from tests.smtp_sink import SMTPSink

pytestmark = pytest.mark.services

DELIVERY_REDIS_DB = 6
UNSUBSCRIBE_LINK = re.compile(r"<(https?://[^>]+/newsletter/unsubscribe/([^/>]+)/)>")


def worker_env(sink: SMTPSink, **extra) -> dict[str, str]:
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": sink.host,
        "EMAIL_PORT": str(sink.port),
        "NEWSLETTER_BACKEND": "smtp",
        **{key: str(value) for key, value in extra.items()},
    }


@pytest.fixture
def services():
    require_postgres()
    return require_redis(DELIVERY_REDIS_DB)


@pytest.fixture
def archive(services):
    restore_wagtail_base_data()  # an earlier transactional test may have flushed Wagtail's migration rows
    assert Page.objects.filter(depth=1).exists() and Locale.objects.exists()
    home = make_site_home()
    assert Site.objects.get(is_default_site=True).root_page_id == home.pk
    return NewsletterIndexPageFactory(parent=home)


@pytest.fixture
def sink():
    with SMTPSink() as running:
        yield running


@pytest.mark.django_db(transaction=True)
def test_real_worker_delivers_topic_issue_to_exactly_its_subscribers(services, archive, sink, topics):
    takedown, prevention = topics
    wanted = []
    for n in range(30):
        subscriber = SubscriberFactory(email=f"worker{n}@example.org")
        subscriber.topics.set([takedown])
        wanted.append(subscriber.email)
    SubscriberFactory(email="other-topic@example.org").topics.set([prevention])
    SubscriberFactory(email="pending@example.org", status=Subscriber.Status.PENDING)
    issue = make_issue(archive, topics=[takedown], audience=Audience.PUBLIC, subject="Real worker issue")
    send, _ = dispatch.create_send(issue)

    env = worker_env(sink, NEWSLETTER_BATCH_SIZE=8, TEST_WORKER_SITE_URL="https://portal.example.org")
    with celery_worker_process(services, concurrency=2, extra_env=env) as worker, celery_producer(services):
        start_send.delay(send.pk)
        wait_for(lambda: Send.objects.get(pk=send.pk).status == Send.Status.DONE, timeout=60,
                 message=f"send did not finish:\n{worker_log(worker)}")

    assert sorted(sink.recipients) == sorted(wanted)
    for message in sink.messages:
        _url, token = UNSUBSCRIBE_LINK.search(message["List-Unsubscribe"]).groups()
        assert tokens.read_token(token, tokens.UNSUBSCRIBE).email == message["To"]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["Subject"] == "Real worker issue"


@pytest.mark.django_db(transaction=True)
def test_sigkilled_worker_loses_nobody_and_a_fresh_worker_alone_resumes(services, archive, sink):
    recipients = 3000
    batch = 50
    Subscriber.objects.bulk_create(
        [Subscriber(email=f"crash{n:05d}@example.org", status=Subscriber.Status.SUBSCRIBED) for n in range(recipients)]
    )
    issue = make_issue(archive, audience=Audience.PUBLIC, subject="Crash test")
    send, _ = dispatch.create_send(issue)
    env = worker_env(sink, NEWSLETTER_BATCH_SIZE=batch, NEWSLETTER_LEASE_SECONDS=4, NEWSLETTER_TICK_SECONDS=1,
                     NEWSLETTER_RATE_PER_SECOND=400, NEWSLETTER_PARALLEL_BATCHES=1)

    with celery_producer(services):
        with celery_worker_process(services, extra_env=env) as doomed:
            start_send.delay(send.pk)
            wait_for(lambda: len(sink.messages) >= recipients // 3, timeout=60,
                     message=f"worker sent too little:\n{worker_log(doomed)}")
            kill_worker(doomed)  # SIGKILL mid-send: its claimed batch stays leased
        received_at_kill = len(sink.messages)
        assert received_at_kill < recipients, "the send finished before the kill; slow it down"
        assert Delivery.objects.filter(send=send, status=Delivery.Status.SENDING).exists()

        # A new worker resumes by itself once the dead worker's lease has expired: no beat runs (each worker
        # ticks on its own), and the killed task's message stays unacknowledged in Redis for an hour.
        with celery_worker_process(services, extra_env=env, purge=False) as survivor:
            wait_for(lambda: Send.objects.get(pk=send.pk).status == Send.Status.DONE, timeout=90,
                     message=f"send did not resume:\n{worker_log(survivor)}")
            time.sleep(0.5)

    counts = collections.Counter(sink.recipients)
    assert len(counts) == recipients, "somebody never received the issue"
    duplicates = sum(count - 1 for count in counts.values())
    assert duplicates <= batch, f"{duplicates} duplicates: more than the batch in flight"
    assert Delivery.objects.filter(send=send, status=Delivery.Status.SENT).count() == recipients
    figures = dispatch.progress(send)
    assert figures["taken_back"] > 0  # the dead worker's rows went back to the queue...
    assert figures["possible_duplicates"] <= duplicates  # ...and what the ledger could know of, it counted
    print(f"\nSIGKILL FIGURES: {recipients} recipients, killed at {received_at_kill}, {duplicates} duplicates, "
          f"ledger {figures['accepted']} accepted, {figures['taken_back']} taken back")


# --- Slow sends: a lane's batch outlasts its lease ----------------------------------------------------------------
#
# Two worker processes (two tasks per send, two lanes each) and beat's tick every second, with a lease of 3 s and
# batches that take longer than that: by the throttle (a new sending domain warming up) or by a mail server that
# answers slowly (greylisting receivers, busy relays). Lanes renew their lease and never send a row they no longer
# hold: nobody gets a second copy, and the ledger agrees with the sink. (Before leases were renewed, beat's tick put
# a lane's rows back in the queue while the lane was still sending them, and another lane sent them again.)

SLOW_RECIPIENTS = 200
SLOW_ENV = {
    "NEWSLETTER_LEASE_SECONDS": 3,
    "NEWSLETTER_TICK_SECONDS": 1,
    "NEWSLETTER_TASK_BUDGET": 5,
    "NEWSLETTER_PARALLEL_BATCHES": 2,
    "NEWSLETTER_CONNECTIONS_PER_TASK": 2,
}


def slow_send(archive, label: str) -> tuple[Send, list[str]]:
    emails = [f"{label}{n:04d}@example.org" for n in range(SLOW_RECIPIENTS)]
    Subscriber.objects.bulk_create([Subscriber(email=email, status=Subscriber.Status.SUBSCRIBED) for email in emails])
    send, _ = dispatch.create_send(make_issue(archive, audience=Audience.PUBLIC, subject=f"Slow {label}"))
    return send, emails


def send_with_two_workers_and_beat(services, send, env: dict, timeout: float) -> None:
    schedule = Path(tempfile.mkdtemp()) / "beat-schedule"
    with celery_producer(services), celery_worker_process(services, concurrency=2, extra_env=env) as first, \
            celery_worker_process(services, concurrency=2, extra_env=env, purge=False,
                                  extra_args=("-B", "-s", str(schedule))) as second:
        start_send.delay(send.pk)
        wait_for(lambda: Send.objects.get(pk=send.pk).status == Send.Status.DONE, timeout=timeout,
                 message=f"the send did not finish:\n{worker_log(first)}\n{worker_log(second)}")
        time.sleep(0.5)  # the last SMTP transactions land


def assert_one_copy_each_and_the_ledger_agrees(send, emails, sink) -> dict:
    counts = collections.Counter(sink.recipients)
    assert set(counts) == set(emails), "somebody never received the issue, or a stranger did"
    duplicates = sum(count - 1 for count in counts.values())
    figures = dispatch.progress(send)
    assert duplicates == 0, f"{duplicates} second copies (the ledger counted {figures['possible_duplicates']})"
    assert figures["sent"] == figures["accepted"] == len(sink.recipients) == len(emails)
    assert figures["possible_duplicates"] == 0
    return figures


@pytest.mark.django_db(transaction=True)
def test_a_throttled_send_outlasting_its_lease_sends_nobody_a_second_copy(services, archive, sink):
    send, emails = slow_send(archive, "throttled")
    # 20 messages a second across all workers, shared through the cache: a lane's batch of 25 takes ~10 s.
    env = worker_env(sink, NEWSLETTER_BATCH_SIZE=25, NEWSLETTER_RATE_PER_SECOND=20,
                     CACHE_URL=require_redis(DELIVERY_REDIS_DB + 1), **SLOW_ENV)
    send_with_two_workers_and_beat(services, send, env, timeout=120)
    assert_one_copy_each_and_the_ledger_agrees(send, emails, sink)


@pytest.mark.django_db(transaction=True)
def test_a_slow_mail_server_makes_no_second_copies(services, archive, sink):
    send, emails = slow_send(archive, "tarpit")
    sink.delay = 0.25  # a batch of 20 takes 5 s on one connection
    env = worker_env(sink, NEWSLETTER_BATCH_SIZE=20, **SLOW_ENV)
    send_with_two_workers_and_beat(services, send, env, timeout=120)
    assert_one_copy_each_and_the_ledger_agrees(send, emails, sink)
