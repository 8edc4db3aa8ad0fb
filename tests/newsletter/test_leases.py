"""Leases and fences: a lane never sends a row it no longer holds, and the ledger counts every copy it learns of.

The real-worker cases (a throttled send and a slow mail server outlasting the lease) are in
``test_delivery_worker.py``; these tests take the lane apart: what it does when its claim is lost between two
messages, when it cannot renew, and how copies accepted after a lost claim are recorded.
"""

from __future__ import annotations

import collections
import time
from datetime import timedelta

from django.utils import timezone

import pytest

from newsletter.backends.smtp import SMTPBackend
from newsletter.models import Delivery, Send
from newsletter.services import dispatch, lease, ledger
from tests.newsletter.factories import SubscriberFactory
from tests.newsletter.issue_factories import NewsletterIndexPageFactory, make_issue


@pytest.fixture
def send(home, settings, smtp):
    settings.NEWSLETTER_BACKEND = "smtp"
    settings.NEWSLETTER_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.NEWSLETTER_BATCH_SIZE = 10
    settings.NEWSLETTER_RATE_PER_SECOND = None
    for n in range(10):
        SubscriberFactory(email=f"fence{n}@example.org")
    issue = make_issue(NewsletterIndexPageFactory(parent=home), subject="Fenced")
    created, _ = dispatch.create_send(issue)
    return dispatch.prepare_send(created.pk)


def expire_and_take_back(send: Send) -> None:
    """What another host's tick does once a lane's lease has run out on the database's clock."""
    Delivery.objects.filter(send=send, status=Delivery.Status.SENDING).update(
        lease_until=timezone.now() - timedelta(seconds=1))
    lease.release_expired()


class FaultAfter(SMTPBackend):
    """The real SMTP backend, with a fault injected after the n-th accepted message of a batch."""

    def __init__(self, after: int, fault):
        super().__init__()
        self.after, self.fault = after, fault

    def deliver_batch(self, messages, on_result):
        seen = 0

        def counting(result):
            nonlocal seen
            on_result(result)
            seen += 1
            if seen == self.after:
                self.fault()

        super().deliver_batch(messages, counting)


def test_a_lane_whose_rows_were_taken_back_stops_and_nobody_gets_two_copies(send, smtp):
    # Its rows go back to the queue after its third message (as if its clock had run slow).
    outcome = dispatch.process_batch(send, backend=FaultAfter(3, lambda: expire_and_take_back(send)))

    # It learns of it from the next mark, which matches no row: that copy is recorded (the row was back in the
    # queue, so it counts as sent and nobody sends it again) and the lane stops there.
    assert outcome.state == "more"
    assert len(smtp.recipients) == 4
    assert Delivery.objects.filter(send=send, status=Delivery.Status.SENT).count() == 4
    assert Delivery.objects.filter(send=send, status=Delivery.Status.QUEUED, taken_back=1).count() == 6

    dispatch.run_send(send.pk)
    smtp.wait_for(10)
    assert max(collections.Counter(smtp.recipients).values()) == 1
    figures = dispatch.progress(send)
    assert figures["sent"] == figures["accepted"] == 10
    assert figures["possible_duplicates"] == 0 and figures["taken_back"] == 7  # the fourth was sent after all


def test_a_copy_sent_after_another_lane_took_the_row_is_counted_as_a_possible_duplicate(send, smtp):
    def taken_over():
        expire_and_take_back(send)
        dispatch.process_batch(send, backend=SMTPBackend())  # another lane claims the rows and sends them all

    dispatch.process_batch(send, backend=FaultAfter(3, taken_over))

    # The first lane sent one more (its fourth) before its mark told it the claim was lost: a second copy,
    # and the ledger says so.
    smtp.wait_for(11)
    counts = collections.Counter(smtp.recipients)
    assert set(counts) == {f"fence{n}@example.org" for n in range(10)}
    assert sum(n - 1 for n in counts.values()) == 1
    figures = dispatch.progress(send)
    assert figures["sent"] == 10
    assert figures["possible_duplicates"] == 1
    assert figures["accepted"] == len(smtp.recipients) == 11
    assert dispatch.run_send(send.pk).state == "done"
    assert len(smtp.recipients) == 11


def test_a_renewal_that_finds_the_rows_gone_loses_the_lease(send):
    held, rows = dispatch.claim_batch(send)
    held.renew(unsent=len(rows))  # still held
    expire_and_take_back(send)
    with pytest.raises(lease.LeaseLost, match="claim was lost"):
        held.renew(unsent=len(rows))
    with pytest.raises(lease.LeaseLost):
        held.check(unsent=len(rows))  # and stays lost


def test_a_lane_stops_when_less_than_half_its_lease_is_left_and_it_cannot_renew(send, settings):
    held, rows = dispatch.claim_batch(send)
    held.seconds = 0.4
    held.check(unsent=len(rows))
    time.sleep(0.25)  # more than half gone: it renews (renewals are due every quarter), which restarts the clock
    held.check(unsent=len(rows))
    assert held.remaining() > 0.3
    expire_and_take_back(send)
    time.sleep(0.25)
    with pytest.raises(lease.LeaseLost):
        held.check(unsent=len(rows))


def test_the_lease_is_renewed_on_the_databases_clock(send):
    held, rows = dispatch.claim_batch(send)
    Delivery.objects.filter(send=send, status=Delivery.Status.SENDING).update(
        lease_until=timezone.now() + timedelta(seconds=1))
    held.renew(unsent=len(rows))
    ends = set(Delivery.objects.filter(send=send, status=Delivery.Status.SENDING).values_list("lease_until",
                                                                                               flat=True))
    assert len(ends) == 1 and ends.pop() > timezone.now() + timedelta(seconds=100)  # NEWSLETTER_LEASE_SECONDS: 120
    assert lease.release_expired() == 0


def test_late_marks_settle_queued_rows_and_count_copies_of_sent_ones(send):
    rows = list(Delivery.objects.filter(send=send).order_by("id"))
    Delivery.objects.filter(pk=rows[0].pk).update(status=Delivery.Status.SENT, copies=1)
    ledger.write_late_marks([rows[0].pk, rows[1].pk])
    first, second = Delivery.objects.get(pk=rows[0].pk), Delivery.objects.get(pk=rows[1].pk)
    assert (first.status, first.copies) == (Delivery.Status.SENT, 2)
    assert (second.status, second.copies) == (Delivery.Status.SENT, 1)
    assert dispatch.progress(send)["possible_duplicates"] == 1
