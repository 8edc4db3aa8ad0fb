"""Writing "sent" marks to the Delivery ledger without making the next message wait for the database.

A worker spends about as long waiting for the mail server as for PostgreSQL. The sender thread hands each
accepted message's id to a writer thread, which issues the UPDATE at once (several at a time when a backlog
forms, one statement for all of them) on its own connection, while the sender already talks to the mail
server about the next message. Before a batch gives back its unsent rows it waits for the writer, so a
row is never requeued while its "sent" mark is still on the way.

If the worker is killed, only the marks not yet written are lost: a handful of messages, the same ones that
count as "in flight". If the writer cannot reach the database, the batch stops at the next message instead of
sending on without a ledger, and the writer keeps the marks and writes them when the database answers again. A
mark that matches no row (the lane had lost its claim) is still recorded, as a copy (``write_late_marks``).

On SQLite and inside a transaction (the test suite's default) marks are written synchronously on the caller's
connection instead (see ``single_connection``).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time

from django.db import connection
from django.db.models import F
from django.utils import timezone

from newsletter.conf import conf

logger = logging.getLogger(__name__)

#: Most marks written by one UPDATE when a backlog has formed.
MAX_COALESCED = 200


class LedgerUnavailable(Exception):
    """The writer could not record marks: stop sending until the database is back."""


def mark_retry_seconds() -> float:
    """How long a writer keeps retrying marks the database refused (they are retried, never dropped, until then)."""
    return float(conf.NEWSLETTER_MARK_RETRY_SECONDS)


def write_sent_marks(claim: str, delivery_ids: list[int]) -> list[int]:
    """Mark deliveries sent, but only rows this batch still holds (its claim, status "sending").

    Returns the ids it no longer held: those copies were accepted for a lane that had lost its claim. They are
    recorded with ``write_late_marks`` (here) and the caller must stop sending.
    """
    from newsletter.models import Delivery

    if _mark_sent(claim, delivery_ids) == len(delivery_ids):
        return []
    # Rare: find which. A row this mark matched stays "sent" under this claim (nothing else changes sent rows).
    ours = set(Delivery.objects.filter(pk__in=delivery_ids, claim=claim, status=Delivery.Status.SENT)
               .values_list("pk", flat=True))
    lost = [pk for pk in delivery_ids if pk not in ours]
    write_late_marks(lost)
    return lost


def _mark_sent(claim: str, delivery_ids: list[int]) -> int:
    """The UPDATE behind ``write_sent_marks``; returns how many rows it matched."""
    from newsletter.models import Delivery

    if connection.vendor == "postgresql":
        # One fixed statement (psycopg prepares it after a few runs): a mark per message costs little CPU.
        table = connection.ops.quote_name(Delivery._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET status = %s, sent_at = %s, attempts = attempts + 1, copies = copies + 1, "  # noqa: S608 - the model's table; values are parameters
                "error = '', lease_until = NULL WHERE id = ANY(%s) AND claim = %s AND status = %s",
                [Delivery.Status.SENT, timezone.now(), list(delivery_ids), claim, Delivery.Status.SENDING],
            )
            return cursor.rowcount
    return Delivery.objects.filter(pk__in=delivery_ids, claim=claim, status=Delivery.Status.SENDING).update(
        status=Delivery.Status.SENT, sent_at=timezone.now(), attempts=F("attempts") + 1,
        copies=F("copies") + 1, error="", lease_until=None,
    )


def write_late_marks(delivery_ids: list[int]) -> None:
    """Record copies the mail server accepted for a lane that had lost its claim on these rows.

    A row back in the queue (or given up as failed) is sent after all: nobody sends it again. A row another
    lane holds or has sent counts one more copy, so the ledger shows the duplicate instead of hiding it.
    """
    from django.db import transaction

    from newsletter.models import Delivery

    if not delivery_ids:
        return
    with transaction.atomic():
        states = dict(Delivery.objects.select_for_update().filter(pk__in=delivery_ids).values_list("pk", "status"))
        settled = [pk for pk, status in states.items() if status in (Delivery.Status.QUEUED, Delivery.Status.FAILED)]
        Delivery.objects.filter(pk__in=settled).update(
            status=Delivery.Status.SENT, sent_at=timezone.now(), attempts=F("attempts") + 1,
            copies=F("copies") + 1, error="", claim="", lease_until=None, not_before=None,
        )
        Delivery.objects.filter(pk__in=list(states)).exclude(pk__in=settled).update(
            attempts=F("attempts") + 1, copies=F("copies") + 1)
    logger.warning("Recorded %d copies accepted after their lane lost its claim (%d were still unsent; the rest "
                   "are possible duplicates)", len(states), len(settled))


class MarkWriter:
    """A background thread that writes "sent" marks in arrival order, with its own connection; one per lane.

    Marks the database cannot take because it is unreachable are kept and retried (with a growing pause) for
    ``NEWSLETTER_MARK_RETRY_SECONDS``; meanwhile ``failing`` is true, so the lane stops sending, and ``flush``
    waits for them. Only marks given up are lost (``flush`` then raises).
    """

    def __init__(self):
        self._queue: queue.Queue[tuple[str, int] | None] = queue.Queue()
        self._error: BaseException | None = None  # set while marks wait for the database
        self._gave_up: BaseException | None = None  # marks that will never be written
        #: Claims for which a mark matched no row: the lane holding that claim must stop.
        self.lost_claims: set[str] = set()
        self._written = threading.Condition()  # notified after each round of marks
        self._thread = threading.Thread(target=self._run, name="newsletter-mark-writer", daemon=True)
        self._thread.start()

    def stop_reason(self, claim: str) -> str:
        """Why the lane holding ``claim`` must stop sending ("" if it need not): a mark of that claim matched no
        row, or marks cannot be written."""
        if claim in self.lost_claims:
            return "a mark matched no row: the claim was lost"
        return "the ledger cannot be written (database unreachable)" if self.failing else ""

    @property
    def failing(self) -> bool:
        """True while marks cannot be written (the lane must not send on without its ledger)."""
        return self._error is not None or self._gave_up is not None

    def backlog(self) -> int:
        """Marks submitted and not yet written."""
        return self._queue.unfinished_tasks

    def wait_for_backlog_below(self, limit: int, timeout: float) -> None:
        """Block until fewer than ``limit`` marks are unwritten (or the writer is failing, or ``timeout`` passed)."""
        with self._written:
            self._written.wait_for(lambda: self.backlog() < limit or self.failing, timeout)

    def submit(self, claim: str, delivery_id: int) -> None:
        """Queue one mark. Never refused: while the database is away it waits with the others (see ``failing``)."""
        self._queue.put((claim, delivery_id))

    def flush(self) -> None:
        """Wait until every submitted mark is written (or given up); raise (once) if any was given up."""
        self._queue.join()
        error, self._gave_up = self._gave_up, None
        if error is not None:
            raise LedgerUnavailable(str(error)) from error

    def close(self) -> None:
        """Write what is queued, then end the thread and its database connection."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        relaxed = False
        while True:
            items = self._next_round()
            if items is None:
                connection.close()
                return
            try:
                relaxed = self._write(items, relaxed)
            finally:
                self._round_done(len(items))

    def _round_done(self, count: int) -> None:
        """Count a round's marks as done (``flush`` waits for that) and wake lanes waiting for the backlog."""
        for _ in range(count):
            self._queue.task_done()
        with self._written:
            self._written.notify_all()

    def _next_round(self) -> list[tuple[str, int]] | None:
        """The next marks to write: the first to arrive and up to ``MAX_COALESCED`` waiting behind it; None when
        the writer is closing (nothing left before the sentinel)."""
        first = self._queue.get()
        if first is None:
            self._queue.task_done()
            return None
        return [first, *self._waiting(MAX_COALESCED - 1)]

    def _waiting(self, limit: int) -> list[tuple[str, int]]:
        """Up to ``limit`` marks already queued, without waiting for more."""
        items = []
        while len(items) < limit:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:  # closing: put the sentinel back, behind this last round of marks
                self._queue.task_done()
                self._queue.put(None)
                break
            items.append(item)
        return items

    def _write(self, items: list[tuple[str, int]], relaxed: bool) -> bool:
        """Write one round of marks, retrying while the database is away; returns whether the session is relaxed."""
        from django.db import InterfaceError, OperationalError

        by_claim = _by_claim(items)
        deadline = time.monotonic() + mark_retry_seconds()
        pause = 0.2
        while True:
            try:
                return self._write_claims(by_claim, relaxed)
            except (OperationalError, InterfaceError) as exc:  # unreachable: reconnect and try again
                relaxed = False
                if not self._wait_for_database(exc, _count(by_claim), pause, deadline):
                    return False
                pause = min(pause * 2, 5.0)
            except Exception as exc:  # a statement the database refuses: retrying would not help
                connection.close()
                return self._give_up(exc, _count(by_claim))

    def _write_claims(self, by_claim: dict[str, list[int]], relaxed: bool) -> bool:
        """Write the marks claim by claim (each claim's taken out once written); returns True (session relaxed)."""
        if not relaxed:
            relax_commit_durability()
        for claim in list(by_claim):
            if write_sent_marks(claim, by_claim[claim]):
                self.lost_claims.add(claim)
            del by_claim[claim]
        self._error = None
        return True

    def _wait_for_database(self, exc: BaseException, left: int, pause: float, deadline: float) -> bool:
        """After the database went away: reconnect on the next try, after ``pause``; False (given up) past the
        deadline."""
        self._error = exc
        connection.close()
        if time.monotonic() + pause > deadline:
            return self._give_up(exc, left)
        logger.warning("Could not record %d delivery marks (%s); trying again in %.1f s", left, exc, pause)
        time.sleep(pause)
        return True

    def _give_up(self, exc: BaseException, count: int) -> bool:
        logger.error("Gave up recording %d delivery marks: %s (those messages may be sent again)", count, exc)
        self._gave_up = exc
        self._error = None
        return False


def _by_claim(items: list[tuple[str, int]]) -> dict[str, list[int]]:
    """The marks' delivery ids by claim, in arrival order."""
    by_claim: dict[str, list[int]] = {}
    for claim, delivery_id in items:
        by_claim.setdefault(claim, []).append(delivery_id)
    return by_claim


def _count(by_claim: dict[str, list[int]]) -> int:
    return sum(len(ids) for ids in by_claim.values())


def single_connection() -> bool:
    """True when a send must use only the caller's database connection: no lane or writer threads.

    SQLite (the embedded default) lets one connection write at a time, so threads would only queue for the
    lock (or fail with "database is locked"); inside a transaction (tests) other connections cannot see the rows.
    """
    return connection.vendor == "sqlite" or connection.in_atomic_block


@contextlib.contextmanager
def lane_writer():
    """A writer for one sending lane, closed (its connection too) when the lane ends.

    Yields None when marks must be written synchronously: inside a transaction, or when turned off.
    """
    if single_connection() or not conf.NEWSLETTER_BACKGROUND_MARKS:
        yield None
        return
    writer = MarkWriter()
    try:
        yield writer
    finally:
        writer.close()


def _session_relaxed() -> bool:
    """Whether this connection's current session has asynchronous commits already."""
    raw = connection.connection
    return raw is not None and getattr(raw, "_portal_async_commit", False)


def relax_commit_durability() -> None:
    """Let PostgreSQL acknowledge this connection's "sent" marks without waiting for the disk.

    A commit per accepted message is what keeps a killed worker from losing its place; waiting for an fsync
    on each would make the database the bottleneck. If PostgreSQL itself crashed, the last few marks could be
    lost and those messages sent again, which is the same promise as for a killed worker.
    """
    if connection.vendor != "postgresql" or not conf.NEWSLETTER_ASYNC_COMMIT or _session_relaxed():
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    connection.connection._portal_async_commit = True
