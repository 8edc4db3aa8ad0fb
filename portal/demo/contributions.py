"""Demo content for contributions: a past, closed period with every hotline's approved figures, and an open
period where some hotlines have submitted and some have not (the demo hotline member has not: they can try it).

``seed(stdout)`` is idempotent: periods are looked up by their period, submissions by organisation and period.
Run after portal.demo.members (organisations and the demo members). Figures are illustrative.
"""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from portal.contributions.models import ReportingPeriod, Submission, SubmitterRole
from portal.core.models import Sector
from portal.members.models import Organisation
from portal.stats.models import Measure

MEASURES = ["reports_received", "reports_illegal", "items_removed", "removed_within_3_days",
            "removed_4_to_7_days", "removed_over_7_days"]
EXTRA_HOTLINE = ("Danube Reporting Point", "AT", "2016-09-01")
DEMO_SUBMITTER = "demo-hotline"
# Illustrative yearly figures per hotline: received, illegal, removed, within 3 days, 4-7 days, later.
FIGURES = {
    "Northern Lights Hotline": (4200, 1900, 1500, 1330, 120, 50),
    "Tagus Reporting Hotline": (3100, 1250, 1010, 860, 100, 50),
    "Danube Reporting Point": (2600, 980, 800, 700, 70, 30),
}


def _figures(name: str, growth: float) -> dict[str, int]:
    base = FIGURES.get(name, (1000, 400, 300, 250, 30, 20))
    return {code: round(value * growth) for code, value in zip(MEASURES, base, strict=True)}


def _period(year: int, deadline: datetime.date, closed: bool, stdout) -> ReportingPeriod:
    period = ReportingPeriod.objects.filter(year=year, quarter__isnull=True).first()
    if period is None:
        period = ReportingPeriod.objects.create(year=year, quarter=None, deadline=deadline, closed=closed)
        period.measures.set(Measure.objects.filter(code__in=MEASURES))
        state = ", closed" if closed else ""
        stdout.write(f"  opened reporting period {period} (deadline {deadline:%d %B %Y}{state})\n")
    return period


def seed(stdout) -> None:
    hotline_sector = Sector.objects.filter(slug="hotline").first()
    if hotline_sector is None or not Measure.objects.filter(code__in=MEASURES).exists():
        stdout.write("  no hotline sector or measures: contributions demo skipped\n")
        return
    name, country, since = EXTRA_HOTLINE
    Organisation.objects.get_or_create(name=name, defaults={
        "sector": hotline_sector, "country": country, "member_since": datetime.date.fromisoformat(since)})
    own = _demo_submitter_organisation()
    today = timezone.localdate()
    past = _period(today.year - 2, datetime.date(today.year - 1, 2, 28), True, stdout)
    current = _period(today.year - 1, today + datetime.timedelta(days=10), False, stdout)
    hotlines = list(Organisation.objects.filter(sector=hotline_sector, active=True).order_by("name"))
    _seed_past_submissions(past, hotlines)
    submitted = _seed_current_submissions(current, [organisation for organisation in hotlines
                                                    if organisation.pk != own])
    stdout.write(f"  contributions: {current} open with {submitted} of {len(hotlines)} hotlines submitted; "
                 f"{DEMO_SUBMITTER} submits at /members/contributions/\n")


def _demo_submitter_organisation() -> int | None:
    """Make the demo member a submitter for their hotline (its contact when it has none); its id, or None."""
    submitter = get_user_model().objects.filter(username=DEMO_SUBMITTER).first()
    if submitter is None or not hasattr(submitter, "membership"):
        return None
    organisation = submitter.membership.organisation
    SubmitterRole.objects.get_or_create(user=submitter, organisation=organisation)
    if not organisation.contact_email:
        organisation.contact_email = submitter.email
        organisation.save(update_fields=["contact_email"])
    return organisation.pk


def _seed_past_submissions(past, hotlines: list) -> None:
    for organisation in hotlines:
        if not Submission.objects.filter(period=past, organisation=organisation).exists():
            Submission.objects.create(
                period=past, organisation=organisation, version=1, status=Submission.APPROVED,
                values=_figures(organisation.name, 1.0), submitted_at=timezone.now() - datetime.timedelta(days=300),
                reviewed_at=timezone.now() - datetime.timedelta(days=290))


def _seed_current_submissions(current, others: list) -> int:
    """In the open period the demo member's hotline has not submitted, nor has every third other hotline; of
    those that have, the first is approved and the rest wait for review. Returns how many submitted."""
    submitted = 0
    for index, organisation in enumerate(others):
        if index % 3 == 2:
            continue  # every third has not submitted yet
        submitted += 1
        if Submission.objects.filter(period=current, organisation=organisation).exists():
            continue
        status = Submission.APPROVED if index == 0 else Submission.SUBMITTED
        Submission.objects.create(
            period=current, organisation=organisation, version=1, status=status,
            values=_figures(organisation.name, 1.1), submitted_at=timezone.now() - datetime.timedelta(days=2),
            reviewed_at=timezone.now() - datetime.timedelta(days=1) if status == Submission.APPROVED else None)
    return submitted
