"""Writing "sent" marks to the Delivery ledger without making the next message wait for the database.

A worker spends about as long waiting for the mail server as for PostgreSQL. The sender thread hands each
accepted message's id to a writer thread, which issues the UPDATE at once (several at a time when a backlog
forms, one statement for all of them) on its own connection, while the sender already talks to the mail
server about the next message. Before a batch gives back its unsent rows it waits for the writer, so a
row is never requeued while its "sent" mark is still on the way.

If the worker is killed, only the marks not yet written are lost: a handful of messages, the same ones that
count as "in flight". If the writer cannot reach the database, the batch stops at the next message instead of
sending on without a ledger.

On SQLite and inside a transaction (the test suite's default) marks are written synchronously on the caller's
connection instead (see ``single_connection``).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.utils import timezone

logger = logging.getLogger(__name__)

#: Most marks written by one UPDATE when a backlog has formed.
MAX_COALESCED = 200


class LedgerUnavailable(Exception):
    """The writer could not record marks: stop sending until the database is back."""


def write_sent_marks(claim: str, delivery_ids: list[int]) -> int:
    """Mark deliveries sent, but only rows this batch still holds (its claim, status "sending")."""
    from newsletter.models import Delivery

    if connection.vendor == "postgresql":
        # One fixed statement (psycopg prepares it after a few runs): a mark per message costs little CPU.
        table = connection.ops.quote_name(Delivery._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET status = %s, sent_at = %s, attempts = attempts + 1, error = '', "  # noqa: S608 - the model's table; values are parameters
                "lease_until = NULL WHERE id = ANY(%s) AND claim = %s AND status = %s",
                [Delivery.Status.SENT, timezone.now(), list(delivery_ids), claim, Delivery.Status.SENDING],
            )
            return cursor.rowcount
    return Delivery.objects.filter(pk__in=delivery_ids, claim=claim, status=Delivery.Status.SENDING).update(
        status=Delivery.Status.SENT, sent_at=timezone.now(), attempts=F("attempts") + 1, error="", lease_until=None
    )


class MarkWriter:
    """A background thread that writes "sent" marks in arrival order, with its own connection; one per lane."""

    def __init__(self):
        self._queue: queue.Queue[tuple[str, int] | None] = queue.Queue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="newsletter-mark-writer", daemon=True)
        self._thread.start()

    def submit(self, claim: str, delivery_id: int) -> None:
        """Queue one mark; raise if the writer has failed since the last flush."""
        if self._error is not None:
            raise LedgerUnavailable(str(self._error))
        self._queue.put((claim, delivery_id))

    def flush(self) -> None:
        """Wait until every submitted mark is written; raise (once) if any could not be."""
        self._queue.join()
        error, self._error = self._error, None
        if error is not None:
            raise LedgerUnavailable(str(error)) from error

    def close(self) -> None:
        """Write what is queued, then end the thread and its database connection."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        relaxed = False
        while True:
            first = self._queue.get()
            if first is None:
                self._queue.task_done()
                connection.close()
                return
            items = [first]
            while len(items) < MAX_COALESCED:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:  # closing: put the sentinel back, behind this last round of marks
                    self._queue.task_done()
                    self._queue.put(None)
                    break
                items.append(item)
            try:
                if not relaxed:
                    relax_commit_durability()
                    relaxed = True
                by_claim: dict[str, list[int]] = {}
                for claim, delivery_id in items:
                    by_claim.setdefault(claim, []).append(delivery_id)
                for claim, ids in by_claim.items():
                    write_sent_marks(claim, ids)
            except Exception as exc:  # the database went away: report it to the sender, reconnect next time
                logger.warning("Could not record %d delivery marks: %s", len(items), exc)
                self._error = exc
                relaxed = False
                connection.close()
            finally:
                for _ in items:
                    self._queue.task_done()


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
    if single_connection() or not getattr(settings, "NEWSLETTER_BACKGROUND_MARKS", True):
        yield None
        return
    writer = MarkWriter()
    try:
        yield writer
    finally:
        writer.close()


def relax_commit_durability() -> None:
    """Let PostgreSQL acknowledge this connection's "sent" marks without waiting for the disk.

    A commit per accepted message is what keeps a killed worker from losing its place; waiting for an fsync
    on each would make the database the bottleneck. If PostgreSQL itself crashed, the last few marks could be
    lost and those messages sent again, which is the same promise as for a killed worker.
    """
    if connection.vendor != "postgresql" or not getattr(settings, "NEWSLETTER_ASYNC_COMMIT", True):
        return
    raw = connection.connection
    if raw is not None and getattr(raw, "_portal_async_commit", False):
        return  # already set on this session
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    connection.connection._portal_async_commit = True
