"""Leases on claimed Delivery rows: a lane renews its lease while it sends and never sends a row it no longer holds.

A lane claims a batch of rows for ``NEWSLETTER_LEASE_SECONDS``. Before every message it asks its ``Lease``:

- every quarter of the lease it renews it (one UPDATE of the rows it still holds, on the database's clock);
  a renewal that matches fewer rows than the lane still has to send, or that fails, means the claim is lost
  and the lane stops at once;
- it starts a message only while at least half the lease is left by its own (monotonic) clock, counted from
  before the renewal went out, so a message under way always ends before anyone else may take the row. A lane
  that cannot reach the database (or was paused) therefore stops sending long before its rows go back.

Rows go back to the queue (``release_expired``) only once their lease has run out on the database's clock: by
then their lane has stopped. Only a process that dies, or loses the database, with a message in flight can
cause a second copy, and the ledger counts the copies it learns about (``Delivery.copies``).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.db import DatabaseError
from django.db.models import DateTimeField, ExpressionWrapper, F
from django.db.models.functions import Now

from newsletter.conf import conf

logger = logging.getLogger(__name__)


class LeaseLost(Exception):
    """This lane no longer holds (or can no longer vouch for) its claim: it must not send another message."""


def lease_seconds() -> float:
    return float(conf.NEWSLETTER_LEASE_SECONDS)


def lease_end(seconds: float | None = None):
    """``now + lease`` on the database's clock (every host compares leases on the same clock)."""
    return ExpressionWrapper(Now() + timedelta(seconds=seconds or lease_seconds()), output_field=DateTimeField())


class Lease:
    """What one lane knows about its claim: until when it holds the rows, by its own monotonic clock."""

    def __init__(self, claim: str, *, started: float, seconds: float | None = None, ids: list[int] = ()):
        self.claim = claim
        self.ids = list(ids)  # the claimed rows (renewals find them by primary key)
        self.seconds = seconds or lease_seconds()
        self.renewed_at = started  # monotonic time taken before the claiming statement went out
        self.lost_reason = ""

    @property
    def renew_every(self) -> float:
        return self.seconds / 4

    def remaining(self) -> float:
        return self.renewed_at + self.seconds - time.monotonic()

    def lose(self, reason: str) -> None:
        if not self.lost_reason:
            self.lost_reason = reason

    def check(self, unsent: int) -> None:
        """Raise ``LeaseLost`` unless the lane may start one more message (renewing the lease when it is due).

        ``unsent``: rows of this claim not yet handed to the mail server (all still held, if the claim is).
        """
        if self.lost_reason:
            raise LeaseLost(self.lost_reason)
        if time.monotonic() - self.renewed_at >= self.renew_every:
            self.renew(unsent)
        if self.remaining() < self.seconds / 2:
            self.lose(f"less than half the lease left ({self.remaining():.1f} s of {self.seconds:.0f} s)")
            raise LeaseLost(self.lost_reason)

    def renew(self, unsent: int) -> None:
        from newsletter.models import Delivery

        started = time.monotonic()
        try:
            held = Delivery.objects.filter(pk__in=self.ids, claim=self.claim, status=Delivery.Status.SENDING).update(
                lease_until=lease_end(self.seconds))
        except DatabaseError as exc:
            self.lose(f"could not renew the lease: {exc}")
            raise LeaseLost(self.lost_reason) from exc
        if held < unsent:
            self.lose(f"the claim was lost ({held} of {unsent} unsent rows still held)")
            raise LeaseLost(self.lost_reason)
        self.renewed_at = started


def release_expired() -> int:
    """Put rows whose lease ran out (their lane stopped) back in the queue; counts each row's return."""
    from newsletter.models import Delivery

    released = Delivery.objects.filter(status=Delivery.Status.SENDING, lease_until__lt=Now()).update(
        status=Delivery.Status.QUEUED, lease_until=None, claim="", taken_back=F("taken_back") + 1
    )
    if released:
        logger.warning("Took back %d deliveries from lanes that stopped (lease expired)", released)
    return released
