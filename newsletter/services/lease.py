"""Leases on claimed Delivery rows: a lane renews its lease while it sends and never sends a row it no longer holds.

A lane claims a batch of rows for ``NEWSLETTER_LEASE_SECONDS``. Before every message it asks its ``Lease``:

- every quarter of the lease it renews it (one UPDATE of the rows it still holds, on the database's clock);
  a renewal that matches fewer rows than the lane still has to send, or that fails, means the claim is lost
  and the lane stops at once;
- it starts a message only while at least half the lease is left by its own (monotonic) clock, counted from
  before the renewal went out, so a message under way always ends before anyone else may take the row. A lane
  that cannot reach the database (or was paused) therefore stops sending long before its rows go back.

A message can outlast the lease (a tarpitting receiver, a starved worker: each SMTP step may take up to
EMAIL_TIMEOUT). While one is with the mail server a keeper thread (``keep_alive``) renews the lease for it, on
its own connection, so only a lane that died, froze or lost the database ever lets its rows go.

Rows go back to the queue (``release_expired``) only once their lease has run out on the database's clock: by
then their lane has stopped. Only a process that dies, or loses the database, with a message in flight can
cause a second copy, and the ledger counts the copies it learns about (``Delivery.copies``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

from django.db import DatabaseError, connections
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
        self._lock = threading.Lock()  # the lane and its keeper both renew
        self._in_flight_unsent: int | None = None  # unsent rows while a message is with the mail server

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

        with self._lock:
            if self.lost_reason:
                raise LeaseLost(self.lost_reason)
            started = time.monotonic()
            try:
                held = Delivery.objects.filter(pk__in=self.ids, claim=self.claim,
                                               status=Delivery.Status.SENDING).update(
                    lease_until=lease_end(self.seconds))
            except DatabaseError as exc:
                self.lose(f"could not renew the lease: {exc}")
                raise LeaseLost(self.lost_reason) from exc
            if held < unsent:
                self.lose(f"the claim was lost ({held} of {unsent} unsent rows still held)")
                raise LeaseLost(self.lost_reason)
            self.renewed_at = started

    def handing_over(self, unsent: int) -> None:
        """A message is going to the mail server; ``unsent`` rows (it included) have not been handed over yet."""
        self._in_flight_unsent = unsent

    def handed_over(self) -> None:
        """The mail server answered (or the connection broke): nothing of this lane is in flight."""
        self._in_flight_unsent = None

    @contextlib.contextmanager
    def keep_alive(self) -> Iterator[None]:
        """Renew the lease from a keeper thread whenever a message is in flight longer than ``renew_every``.

        Use only where the lane's rows are committed (a worker, not a test transaction or SQLite's one writer):
        the keeper renews on its own database connection, opened the first time a message is that slow.
        """
        stop = threading.Event()

        def keep() -> None:
            try:
                while not stop.wait(self.renew_every / 2):
                    unsent = self._in_flight_unsent
                    if unsent is None or self.lost_reason:
                        continue
                    if time.monotonic() - self.renewed_at >= self.renew_every:
                        # The in-flight row may already be marked sent by the writer: it need not be held.
                        with contextlib.suppress(LeaseLost):
                            self.renew(max(0, unsent - 1))
            finally:
                connections.close_all()  # the keeper thread's own connection

        keeper = threading.Thread(target=keep, name=f"lease-keeper-{self.claim[:8]}", daemon=True)
        keeper.start()
        try:
            yield
        finally:
            stop.set()
            keeper.join()


def release_expired() -> int:
    """Put rows whose lease ran out (their lane stopped) back in the queue; counts each row's return."""
    from newsletter.models import Delivery

    released = Delivery.objects.filter(status=Delivery.Status.SENDING, lease_until__lt=Now()).update(
        status=Delivery.Status.QUEUED, lease_until=None, claim="", taken_back=F("taken_back") + 1
    )
    if released:
        logger.warning("Took back %d deliveries from lanes that stopped (lease expired)", released)
    return released
