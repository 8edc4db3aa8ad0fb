"""Several batches at once in one task, with "sent" marks written in the background, on PostgreSQL.

Outside a transaction (as in a real worker) ``run_send`` keeps several batches going in threads, each with
its own SMTP and database connection, and a writer thread records each accepted message. These tests run
the way a worker does (committed rows, real SMTP server on loopback) and check what a subscriber would
notice: everybody gets the issue, nobody gets it twice.
"""

import threading
import time

from django.db import connection, connections

import pytest

from newsletter.models import Audience, Delivery, Send, Subscriber
from newsletter.services import dispatch, lease, ledger
from newsletter.services.dispatch import BatchOutcome, combine_outcomes
from tests.factories import make_site_home
from tests.newsletter.issue_factories import NewsletterIndexPageFactory, make_issue
from tests.services import restore_wagtail_base_data, services_required

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(
        connection.vendor != "postgresql" and not services_required(),
        reason="PostgreSQL not in use (DATABASE_URL=postgres://...); REQUIRE_SERVICES=1 makes this a failure",
    ),
]


# Transactional tests run after all others (pytest-django orders them last); each rebuilds what it needs.
committed_rows = pytest.mark.django_db(transaction=True)


@pytest.fixture
def committed_issue(settings, smtp):
    settings.NEWSLETTER_BACKEND = "smtp"
    settings.NEWSLETTER_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.NEWSLETTER_BATCH_SIZE = 20
    settings.NEWSLETTER_RATE_PER_SECOND = None
    settings.NEWSLETTER_WINDOW_CAP = None
    restore_wagtail_base_data()  # an earlier transactional test may have flushed Wagtail's migration rows
    archive = NewsletterIndexPageFactory(parent=make_site_home())
    return make_issue(archive, audience=Audience.PUBLIC, subject="Lanes")


@committed_rows
def test_four_lanes_deliver_every_recipient_exactly_once(committed_issue, smtp):
    assert not connection.in_atomic_block  # the threaded path, as in a worker
    emails = {f"lane{n:03d}@example.org" for n in range(300)}
    Subscriber.objects.bulk_create([Subscriber(email=email, status=Subscriber.Status.SUBSCRIBED) for email in emails])
    send, _ = dispatch.create_send(committed_issue)

    outcome = dispatch.run_send(send.pk, lanes=4)

    assert outcome.state == "done"
    smtp.wait_for(len(emails))
    assert sorted(smtp.recipients) == sorted(emails)  # everybody, once
    assert set(Delivery.objects.filter(send=send).values_list("status", flat=True)) == {Delivery.Status.SENT}
    assert Send.objects.get(pk=send.pk).status == Send.Status.DONE
    assert dispatch.progress(send)["sent"] == len(emails)


@committed_rows
def test_a_message_slower_than_the_whole_lease_is_not_sent_twice(committed_issue, smtp, settings):
    """A tarpitting receiver holds each message longer than the lease while beat takes back expired rows:
    the lane keeps its claim for the message in flight, so nobody gets a second copy."""
    settings.NEWSLETTER_LEASE_SECONDS = 2
    settings.NEWSLETTER_BATCH_SIZE = 3
    smtp.delay = 3.0  # every message outlasts the whole lease
    emails = {f"tarpit{n}@example.org" for n in range(6)}
    Subscriber.objects.bulk_create([Subscriber(email=email, status=Subscriber.Status.SUBSCRIBED) for email in emails])
    send, _ = dispatch.create_send(committed_issue)
    stop, taken_back = threading.Event(), []

    def beat() -> None:  # another host's tick, as often as it can
        try:
            while not stop.wait(0.2):
                taken_back.append(lease.release_expired())
        finally:
            connections.close_all()

    ticker = threading.Thread(target=beat)
    ticker.start()
    try:
        for _ in range(40):  # the task's next runs, as a worker would make them
            if dispatch.run_send(send.pk, lanes=2).state == "done":
                break
            time.sleep(0.3)
    finally:
        stop.set()
        ticker.join()

    smtp.wait_for(len(emails))
    assert sorted(smtp.recipients) == sorted(emails)  # everybody, once
    assert sum(taken_back) == 0
    assert dispatch.progress(send)["possible_duplicates"] == 0


@committed_rows
def test_a_failed_mark_stops_the_batch_instead_of_sending_without_a_ledger():
    writer = ledger.MarkWriter()
    writer.submit("some-claim", "not a delivery id")  # the UPDATE fails in the writer thread
    with pytest.raises(ledger.LedgerUnavailable):
        writer.flush()
    # Reported once; the writer reconnects and goes on working.
    writer.submit("some-claim", 0)
    writer.flush()
    writer.close()


def test_lane_outcomes_combine_into_what_the_task_must_do_next():
    assert combine_outcomes([BatchOutcome("done", sent=5), BatchOutcome("idle", sent=3)]) == BatchOutcome(
        "done", sent=8)
    assert combine_outcomes([BatchOutcome("more", sent=1), BatchOutcome("done")]).state == "more"
    assert combine_outcomes([BatchOutcome("wait", 9.0), BatchOutcome("wait", 2.0)]).wait_seconds == 2.0
    assert combine_outcomes([BatchOutcome("more"), BatchOutcome("paused")]).state == "paused"
