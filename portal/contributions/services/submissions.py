"""The contribution workflow: who may submit, drafts, submitting, versions, review and reminders.

Views, admin views and tasks call these functions. Every change happens in one transaction (nothing is
half-saved), is written to Wagtail's audit log, and emails are queued with ``on_commit`` so they never go out
for a change that was rolled back.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from wagtail.log_actions import log

from portal.members.models import Membership, Organisation

from ..emails import send_review_outcome
from ..models import ReminderSent, ReportingPeriod, Submission, SubmitterRole
from .validation import Checked, MeasureSpec, Problem, check, ratio

HOTLINE_SECTOR = "hotline"


class NotAllowed(Exception):
    """The user may not do this; the message says why."""


class Invalid(Exception):
    """The figures did not pass the checks; nothing was saved."""

    def __init__(self, checked: Checked):
        super().__init__("; ".join(str(problem) for problem in checked.problems))
        self.checked = checked

    @property
    def problems(self) -> list[Problem]:
        return self.checked.problems


# --- The submitter role -------------------------------------------------------------------------------------


def display_name(user) -> str:
    """The user's full name, else their username."""
    return user.get_full_name() or user.get_username()


def organisation_of(user) -> Organisation | None:
    """The user's organisation if it is active."""
    if not user.is_authenticated:
        return None
    membership = Membership.objects.select_related("organisation").filter(user=user).first()
    if membership is None or not membership.organisation.active:
        return None
    return membership.organisation


def _belongs_to(user, organisation: Organisation) -> bool:
    """Whether the user's (active) organisation is this one."""
    own = organisation_of(user)
    return own is not None and own.pk == organisation.pk


def can_submit(user, organisation: Organisation | None) -> bool:
    """A member with the submitter role for their own, active organisation."""
    if organisation is None or not organisation.active or not user.is_authenticated:
        return False
    return _belongs_to(user, organisation) and SubmitterRole.objects.filter(
        user=user, organisation=organisation).exists()


def is_contact(user, organisation: Organisation) -> bool:
    """The organisation's contact person: a member of it whose email is its contact address."""
    return bool(_belongs_to(user, organisation) and organisation.contact_email
                and user.email.strip().lower() == organisation.contact_email.strip().lower())


def can_grant(user, organisation: Organisation) -> bool:
    """The organisation's contact person, or staff allowed to manage submitter roles."""
    return user.has_perm("contributions.add_submitterrole") or is_contact(user, organisation)


def grant_role(user, organisation: Organisation, granted_by) -> SubmitterRole:
    """Make a member of the organisation a statistics submitter for it."""
    if not can_grant(granted_by, organisation):
        raise NotAllowed("Only the organisation's contact person or an administrator can grant this role.")
    if not Membership.objects.filter(user=user, organisation=organisation).exists():
        raise NotAllowed(f"{display_name(user)} is not a member of {organisation}.")
    with transaction.atomic():
        role, created = SubmitterRole.objects.get_or_create(
            user=user, organisation=organisation, defaults={"granted_by": granted_by})
        if created:
            log(organisation, "contributions.role.grant", user=granted_by,
                data={"user": user.pk, "name": display_name(user)})
    return role


def revoke_role(user, organisation: Organisation, revoked_by) -> bool:
    if not can_grant(revoked_by, organisation):
        raise NotAllowed("Only the organisation's contact person or an administrator can remove this role.")
    with transaction.atomic():
        deleted, _ = SubmitterRole.objects.filter(user=user, organisation=organisation).delete()
        if deleted:
            log(organisation, "contributions.role.revoke", user=revoked_by,
                data={"user": user.pk, "name": display_name(user)})
    return bool(deleted)


# --- Submissions --------------------------------------------------------------------------------------------


def specs_for(period: ReportingPeriod) -> list[MeasureSpec]:
    return [MeasureSpec.from_measure(measure) for measure in period.ordered_measures()]


def latest(period: ReportingPeriod, organisation: Organisation) -> Submission | None:
    """The organisation's newest version for the period, whatever its state."""
    return Submission.objects.filter(period=period, organisation=organisation).order_by("-version").first()


def open_periods(organisation: Organisation) -> list[tuple[ReportingPeriod, Submission | None]]:
    """Each open period with the organisation's newest version for it (None before its first draft)."""
    return [(period, latest(period, organisation))
            for period in ReportingPeriod.objects.open().prefetch_related("measures")]


def sent_versions(organisation: Organisation, limit: int = 50):
    """The organisation's versions that left the draft stage, newest period and version first."""
    return (Submission.objects.filter(organisation=organisation).exclude(status=Submission.DRAFT)
            .select_related("period", "submitted_by").order_by("-period__period_key", "-version")[:limit])


def previous_figures(period: ReportingPeriod, organisation: Organisation) -> Submission | None:
    """The organisation's approved submission for the period before this one (what jumps are measured against)."""
    return (Submission.objects.filter(period__period_key=period.previous_key, organisation=organisation,
                                      status=Submission.APPROVED)
            .order_by("-version").first())


def check_figures(period, organisation, raw_values: Mapping[str, str], raw_comments: Mapping[str, str] | None = None,
                  *, complete: bool, rows: Mapping[str, int] | None = None) -> Checked:
    previous = previous_figures(period, organisation)
    return check(specs_for(period), raw_values, raw_comments, previous=previous.values if previous else None,
                 jump_factor=period.jump_factor, complete=complete, rows=rows)


def jumps_in(period, organisation, values: Mapping[str, object]) -> dict[str, str]:
    """The figures of a saved version that jump against the previous period (code -> explanation)."""
    return check_figures(period, organisation, {code: str(value) for code, value in values.items()},
                         complete=False).jumps


def _check_may_submit(user, period: ReportingPeriod, organisation: Organisation) -> None:
    if not can_submit(user, organisation):
        raise NotAllowed("You do not have the statistics submitter role for this organisation. Its contact person "
                         "can grant it.")
    if not period.is_open:
        raise NotAllowed(f"The reporting period {period} is closed.")


def _checked_for_saving(user, period: ReportingPeriod, organisation: Organisation, raw_values, raw_comments, *,
                        complete: bool, rows, extra_problems) -> Checked:
    """The figures checked for a draft (``complete=False``) or a submission, after the problems already found
    in the uploaded file's rows; refused with ``NotAllowed`` or ``Invalid``."""
    _check_may_submit(user, period, organisation)
    checked = check_figures(period, organisation, raw_values, raw_comments, complete=complete, rows=rows)
    checked.problems[:0] = list(extra_problems)
    if not checked.ok:
        raise Invalid(checked)
    return checked


def _working_copy(period, organisation, user) -> Submission:
    """The draft to write into: the existing one, or a new version (earlier versions stay as they are)."""
    current = (Submission.objects.select_for_update().filter(period=period, organisation=organisation)
               .order_by("-version").first())
    if current is not None and current.status == Submission.DRAFT:
        return current
    number = (current.version if current else 0) + 1
    return Submission(period=period, organisation=organisation, version=number, created_by=user)


def save_draft(user, period: ReportingPeriod, organisation: Organisation, raw_values, raw_comments=None, *,
               source: str = Submission.FORM, rows=None, extra_problems=()) -> Submission:
    """Save the figures as a draft. Each figure must be well formed; missing ones and big jumps may wait."""
    checked = _checked_for_saving(user, period, organisation, raw_values, raw_comments, complete=False, rows=rows,
                                  extra_problems=extra_problems)
    with transaction.atomic():
        draft = _working_copy(period, organisation, user)
        created = draft.pk is None
        draft.values, draft.comments, draft.source = checked.values, checked.comments, source
        _save_version(draft)
        log(draft, "contributions.submission.draft", user=user,
            data={"version": draft.version, "new_version": created, "source": source})
    return draft


def submit(user, period: ReportingPeriod, organisation: Organisation, raw_values, raw_comments=None, *,
           source: str = Submission.FORM, rows=None, extra_problems=()) -> Submission:
    """Submit the figures for review: all of them, consistent, and with a comment on every big jump.

    Submitting again before the review makes a new version and marks the waiting one as superseded.
    """
    checked = _checked_for_saving(user, period, organisation, raw_values, raw_comments, complete=True, rows=rows,
                                  extra_problems=extra_problems)
    with transaction.atomic():
        submission = _working_copy(period, organisation, user)
        submission.values, submission.comments, submission.source = checked.values, checked.comments, source
        submission.status = Submission.SUBMITTED
        submission.submitted_by, submission.submitted_at = user, timezone.now()
        _save_version(submission)
        Submission.objects.filter(period=period, organisation=organisation, status=Submission.SUBMITTED,
                                  version__lt=submission.version).update(status=Submission.SUPERSEDED)
        log(submission, "contributions.submission.submit", user=user,
            data={"version": submission.version, "source": source, "jumps": sorted(checked.jumps)})
    return submission


def _save_version(submission: Submission) -> None:
    try:
        with transaction.atomic():
            submission.save()
    except IntegrityError:
        # Two tabs submitting at once: the other one won the version number. Say so rather than fail.
        raise NotAllowed("Your organisation's figures were changed at the same moment in another window. "
                         "Reload the page and check them.") from None


# Approving or returning a version: its new status and the audit log's action.
DECISIONS = {
    True: (Submission.APPROVED, "contributions.submission.approve"),
    False: (Submission.RETURNED, "contributions.submission.return"),
}


def decide(submission_id: int, reviewer, *, approve: bool, comment: str = "") -> Submission:
    """Approve or return a submitted version. Returning needs a comment; the submitter is emailed either way."""
    comment = comment.strip()
    if not approve and not comment:
        raise NotAllowed("Say what needs correcting: the submitter sees this comment.")
    with transaction.atomic():
        submission = Submission.objects.select_for_update().select_related("period", "organisation").get(
            pk=submission_id)
        if submission.status != Submission.SUBMITTED:
            raise NotAllowed(f"This version is {submission.get_status_display().lower()}; only a submitted version "
                             "can be approved or returned.")
        if approve:
            Submission.objects.filter(period=submission.period, organisation=submission.organisation,
                                      status=Submission.APPROVED).update(status=Submission.SUPERSEDED)
        submission.status, action = DECISIONS[approve]
        submission.reviewed_by, submission.reviewed_at = reviewer, timezone.now()
        submission.review_comment = comment
        submission.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_comment", "updated_at"])
        log(submission, action, user=reviewer, data={"version": submission.version, "comment": comment})
        transaction.on_commit(lambda: send_review_outcome.delay(submission.pk))
    return submission


def earlier_version(versions: list[Submission], submission: Submission) -> Submission | None:
    """The newest version sent before this one (``versions`` newest first; drafts are never compared)."""
    return next((v for v in versions if v.version < submission.version and v.status != Submission.DRAFT), None)


def review_rows(period: ReportingPeriod, submission: Submission, earlier: Submission | None,
                previous: Submission | None) -> list[dict]:
    """Per measure, for the review: this version's figure and comment beside the earlier version's and the
    previous period's, how many times the previous period's figure it is, and whether it jumps."""
    jumps = jumps_in(period, submission.organisation, submission.values)
    earlier_values = earlier.values if earlier else {}
    previous_values = previous.values if previous else {}
    return [{"measure": measure, "value": submission.values.get(measure.code),
             "comment": submission.comments.get(measure.code, ""), "earlier": earlier_values.get(measure.code),
             "previous": previous_values.get(measure.code),
             "ratio": ratio(submission.values.get(measure.code), previous_values.get(measure.code)),
             "jump": measure.code in jumps}
            for measure in period.ordered_measures()]


# --- The secretariat's overview -----------------------------------------------------------------------------


@dataclass
class OrganisationStatus:
    organisation: Organisation
    latest: Submission | None
    previous: Submission | None
    submitters: int

    @property
    def state(self) -> str:
        if self.latest is None:
            return "not started"
        if self.latest.status == Submission.DRAFT:
            return "draft, not submitted"
        return self.latest.get_status_display()

    @property
    def awaits_review(self) -> bool:
        return self.latest is not None and self.latest.status == Submission.SUBMITTED

    @property
    def has_submitted(self) -> bool:
        return self.latest is not None and (self.latest.status != Submission.DRAFT or self.latest.version > 1)


def expected_organisations():
    """The organisations asked for figures: active member hotlines."""
    return Organisation.objects.filter(active=True, sector__slug=HOTLINE_SECTOR).order_by("name")


def period_overview(period: ReportingPeriod) -> list[OrganisationStatus]:
    """Per expected organisation: its newest version, its previous period's approved figures, its submitters."""
    organisations = list(expected_organisations())
    submissions = Submission.objects.filter(period=period).select_related("submitted_by", "reviewed_by")
    newest: dict[int, Submission] = {}
    for submission in submissions.order_by("organisation_id", "version"):
        newest[submission.organisation_id] = submission
    previous = {s.organisation_id: s for s in Submission.objects.filter(
        period__period_key=period.previous_key, status=Submission.APPROVED).order_by("version")}
    roles = Counter(SubmitterRole.objects.values_list("organisation_id", flat=True))
    listed = {organisation.pk for organisation in organisations}
    # An organisation that is no longer a hotline but did submit stays visible.
    extra = Organisation.objects.filter(pk__in=set(newest) - listed)
    return [OrganisationStatus(organisation, newest.get(organisation.pk), previous.get(organisation.pk),
                               roles[organisation.pk])
            for organisation in [*organisations, *extra]]


def reminders_by_organisation(period: ReportingPeriod) -> dict[int, list[str]]:
    """The reminders sent for the period, per organisation id, oldest first ("before the deadline (02 Mar)")."""
    reminders: dict[int, list[str]] = defaultdict(list)
    for reminder in ReminderSent.objects.filter(period=period).order_by("sent_at"):
        reminders[reminder.organisation_id].append(f"{reminder.get_kind_display().lower()} ({reminder.sent_at:%d %b})")
    return reminders


def version_history(period: ReportingPeriod, organisation: Organisation) -> list[Submission]:
    return list(Submission.objects.filter(period=period, organisation=organisation)
                .select_related("submitted_by", "reviewed_by").order_by("-version"))


# --- Reminders ----------------------------------------------------------------------------------------------


def reminder_kind_due(period: ReportingPeriod, today: datetime.date, days_before: int) -> str | None:
    """Which reminder is due today for this period, if any."""
    if today == period.deadline:
        return ReminderSent.ON_DEADLINE
    if today == period.deadline - datetime.timedelta(days=days_before):
        return ReminderSent.BEFORE
    return None


def reminder_addresses(organisation: Organisation) -> list[str]:
    """Where an organisation's reminders go: its active submitters' addresses, else its contact address."""
    addresses = sorted(set(SubmitterRole.objects.filter(organisation=organisation, user__is_active=True)
                           .exclude(user__email="").values_list("user__email", flat=True)))
    if addresses or not organisation.contact_email:
        return addresses
    return [organisation.contact_email]


def _not_yet_reminded(period: ReportingPeriod, kind: str) -> list[Organisation]:
    """The expected organisations that have neither submitted for the period nor had this reminder yet."""
    done = set(Submission.objects.filter(period=period).exclude(status=Submission.DRAFT)
               .values_list("organisation_id", flat=True))
    reminded = set(ReminderSent.objects.filter(period=period, kind=kind).values_list("organisation_id", flat=True))
    skipped = done | reminded
    return [organisation for organisation in expected_organisations() if organisation.pk not in skipped]


def due_reminders(today: datetime.date, days_before: int) -> list[tuple[ReportingPeriod, Organisation, str]]:
    """(period, organisation, kind) for every open period with a reminder due today, to organisations that have
    not submitted and were not reminded of that kind yet."""
    due = []
    for period in ReportingPeriod.objects.open():
        kind = reminder_kind_due(period, today, days_before)
        if kind is not None:
            due += [(period, organisation, kind) for organisation in _not_yet_reminded(period, kind)]
    return due
