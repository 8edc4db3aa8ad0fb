"""Approved submissions become a period's observations in a statistics dataset, with their provenance.

Rows written: one per contributing hotline (its country and name), one per country (the sum of its hotlines)
and the network total. Only counts are written; shares are computed from counts by the statistics app, never
averaged from percentages. The period's rows in the dataset are replaced as a whole, in one transaction, and an
``Aggregation`` records who contributed, the coverage and what changed against the previous released version.
With a release time the rows are written only then (the embargo), by ``release_due`` from Celery beat.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from django.db import transaction
from django.utils import timezone

from wagtail.log_actions import log

from portal.core import cache as page_cache
from portal.stats.models import Dataset, Observation, PeriodNote
from portal.stats.models.datasets import COUNT

from ..models import Aggregation, ReportingPeriod, Submission
from .submissions import expected_organisations


def _hotline_row(submission: Submission, counts: list[str]) -> dict:
    """A contributing hotline's row: its country and name, and its counts."""
    return {"country": str(submission.organisation.country), "organisation": submission.organisation.name,
            "values": {code: int(submission.values[code]) for code in counts if code in submission.values}}


def _rows(period: ReportingPeriod, approved: list[Submission]) -> list[dict]:
    counts = [m.code for m in period.ordered_measures() if m.kind == COUNT]
    rows = [_hotline_row(submission, counts) for submission in approved]
    by_country: dict[str, Counter] = defaultdict(Counter)
    network: Counter = Counter()
    for row in rows:
        by_country[row["country"]].update(row["values"])
        network.update(row["values"])
    rows += [{"country": country, "organisation": "", "values": dict(values)}
             for country, values in sorted(by_country.items())]
    rows.append({"country": "", "organisation": "", "values": dict(network)})
    return rows


def _key(row: dict) -> tuple[str, str]:
    return row["country"], row["organisation"]


def _value_changes(where: str, previous: dict, values: dict) -> list[str]:
    """What changed in one row that the previous version had: figures changed and measures added."""
    lines = []
    for code, value in values.items():
        if code not in previous:
            lines.append(f"{where}: {code} added ({value})")
        elif previous[code] != value:
            lines.append(f"{where}: {code} {previous[code]} → {value}")
    return lines


def _changes(before: list[dict], after: list[dict]) -> list[str]:
    """What changed against the version released before (nothing to say for the first one)."""
    if not before:
        return []
    old = {_key(row): row["values"] for row in before}
    lines = []
    for row in after:
        previous = old.get(_key(row))
        where = _where(row)
        lines += _value_changes(where, previous, row["values"]) if previous else [f"{where}: added"]
    return lines


def _where(row: dict) -> str:
    """How a change names its row: the hotline, the country, or the network total."""
    return row["organisation"] or row["country"] or "Network total"


def _release_time(release_at):
    """When a version asked for at ``release_at`` goes out: None (now) unless that is still to come."""
    return release_at if release_at and release_at > timezone.now() else None


def _log_aggregation(aggregation: Aggregation, user, contributors: int) -> None:
    release_at = aggregation.release_at
    log(aggregation.period, "contributions.period.aggregate", user=user,
        data={"dataset": aggregation.dataset.slug, "version": aggregation.version, "contributors": contributors,
              "expected": aggregation.expected, "release_at": release_at.isoformat() if release_at else None,
              "preview": aggregation.preview,
              "preview_groups": sorted(group.name for group in aggregation.preview_groups.all()),
              "newsletter_issue": aggregation.newsletter_issue_id})


def _new_version(period: ReportingPeriod, dataset: Dataset, rows: list[dict], **fields) -> Aggregation:
    """Record the next version of the period's figures in the dataset (the last version's row stays locked until
    the commit), with what changed against the version released before."""
    versions = Aggregation.objects.filter(period=period, dataset=dataset).order_by("-version")
    last = versions.select_for_update().first()
    released = versions.filter(released_at__isnull=False).first()
    return Aggregation.objects.create(period=period, dataset=dataset, version=(last.version + 1) if last else 1,
                                      snapshot=rows, changes=_changes(released.snapshot, rows) if released else [],
                                      **fields)


def aggregate(period: ReportingPeriod, dataset: Dataset, user=None, release_at=None,
              preview: str = Aggregation.LOGIN, preview_groups=(), newsletter_issue=None) -> Aggregation:
    """Record a new version of the period's approved figures for the dataset, and write them into it now, or at
    ``release_at`` (``release_due``, run by beat): until then no channel (page, API, CSV, home, feeds) has them,
    and only the ``preview`` audience (``services/embargo.py``) reads them on the statistics page, marked
    "embargoed until …"."""
    with transaction.atomic():
        approved = list(Submission.objects.filter(period=period, status=Submission.APPROVED)
                        .select_related("organisation").order_by("organisation__name"))
        aggregation = _new_version(
            period, dataset, _rows(period, approved), expected=expected_organisations().count(), created_by=user,
            release_at=_release_time(release_at), preview=preview or Aggregation.NOBODY,
            newsletter_issue=newsletter_issue,
        )
        if preview == Aggregation.GROUPS:
            aggregation.preview_groups.set(preview_groups)
        aggregation.contributors.set([submission.organisation for submission in approved])
        aggregation.submissions.set(approved)
        _log_aggregation(aggregation, user, len(approved))
        if aggregation.release_at is None:
            _write(aggregation)
            send_release_newsletter(aggregation)
    return aggregation


def _write(aggregation: Aggregation) -> None:
    """Replace the period's rows in the dataset with the aggregation's (inside the caller's transaction)."""
    period = aggregation.period
    Observation.objects.filter(dataset=aggregation.dataset, year=period.year, quarter=period.quarter).delete()
    Observation.objects.bulk_create([
        Observation(dataset=aggregation.dataset, year=period.year, quarter=period.quarter,
                    period_key=period.period_key, country=row["country"], organisation=row["organisation"],
                    values=row["values"])
        for row in aggregation.snapshot
    ])
    aggregation.released_at = timezone.now()
    aggregation.save(update_fields=["released_at"])
    _note(aggregation)
    # bulk_create sends no save signals: tell the page cache (after the commit) that the figures changed.
    page_cache.invalidate()


def _note(aggregation: Aggregation) -> None:
    """Tell readers the coverage, and what changed when an earlier version had been released."""
    note, _created = PeriodNote.objects.get_or_create(
        dataset=aggregation.dataset, period_key=aggregation.period.period_key,
        defaults={"period": aggregation.period.label})
    note.coverage = aggregation.coverage.capitalize()
    note.contributors, note.expected = aggregation.contributors.count(), aggregation.expected
    if aggregation.changes:
        dated = f"{timezone.localdate():%d %B %Y}: " + "; ".join(aggregation.changes[:20])
        note.correction = f"{note.correction} {dated}".strip()
    note.save()


def release_due(now=None) -> int:
    """Write every scheduled aggregation whose time has come (the newest version of each period and dataset;
    an older one a correction replaced is never written). Safe to run twice or on two workers at once."""
    now = now or timezone.now()
    released = 0
    due = Aggregation.objects.filter(release_at__lte=now, released_at__isnull=True).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            aggregation = (Aggregation.objects.select_for_update(skip_locked=True).not_replaced()
                           .select_related("period", "dataset").filter(pk=pk, released_at__isnull=True).first())
            if aggregation is None:
                continue  # released by another run, or replaced by a later version
            _write(aggregation)
            send_release_newsletter(aggregation)
            released += 1
    return released


def send_release_newsletter(aggregation: Aggregation) -> bool:
    """Start the newsletter issue chosen for this release through the newsletter pipeline (inside the caller's
    transaction, which holds the aggregation's row lock; the send task starts after the commit, when the figures
    are in the dataset, so the issue's statistics blocks show them).

    Once only: the ``Send`` is recorded on the aggregation, and ``create_send`` finds an issue's send for its
    audience again. An issue that is not published yet (its scheduled publishing has not run) waits for the
    next run of ``send_waiting_newsletters``; an issue the access gate refuses is recorded as the problem.
    """
    from newsletter.services import dispatch, gate
    from newsletter.tasks import start_send

    if not aggregation.newsletter_pending:
        return False
    issue = aggregation.newsletter_issue.specific
    if not issue.live or issue.has_unpublished_changes:
        return False  # published by its go-live time (beat); send_waiting_newsletters tries again
    try:
        with transaction.atomic():
            send, created = dispatch.create_send(issue, user=aggregation.created_by)
    except gate.GateError as refused:
        aggregation.newsletter_problem = str(refused)
        aggregation.save(update_fields=["newsletter_problem"])
        _log_newsletter(aggregation, issue, problem=aggregation.newsletter_problem)
        return False
    aggregation.newsletter_send = send
    aggregation.save(update_fields=["newsletter_send"])
    _log_newsletter(aggregation, issue, send=send.pk, new_send=created)
    if created:
        transaction.on_commit(lambda: start_send.delay(send.pk))
    return created


def _log_newsletter(aggregation: Aggregation, issue, **outcome) -> None:
    log(aggregation.period, "contributions.period.newsletter", user=aggregation.created_by,
        data={"dataset": aggregation.dataset.slug, "version": aggregation.version, "issue": issue.pk, **outcome})


def send_waiting_newsletters() -> int:
    """Released figures whose newsletter issue was not published yet at the release: send it now if it is.
    Safe to run twice or on two workers at once (row lock, ``skip_locked``; the send is recorded)."""
    started = 0
    waiting = Aggregation.objects.filter(released_at__isnull=False, newsletter_issue__isnull=False,
                                         newsletter_send__isnull=True, newsletter_problem="")
    for pk in list(waiting.values_list("pk", flat=True)):
        with transaction.atomic():
            aggregation = (Aggregation.objects.select_for_update(skip_locked=True, of=("self",))
                           .select_related("period", "dataset").filter(pk=pk, newsletter_send__isnull=True).first())
            if aggregation is not None and send_release_newsletter(aggregation):
                started += 1
    return started
