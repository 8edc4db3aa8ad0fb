"""Members contribute: reporting periods, who may submit figures for an organisation, and the submissions.

A ``ReportingPeriod`` (a year or a quarter) is opened by the secretariat with a deadline and the measures it asks
for (``portal.stats.Measure``: definition, unit, caveat, kind and limit live there, so the figures and the
published statistics share one catalogue). A ``SubmitterRole`` lets a member submit for their own organisation.
A ``Submission`` is one version of an organisation's figures for a period: a correction is a new version and the
earlier ones are kept (superseded or returned), so the review can always show what was sent when.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from wagtail.admin.panels import FieldPanel, FieldRowPanel

from portal.members.models import Organisation
from portal.stats.models import Measure
from portal.stats.models.datasets import period_key, period_label


def default_jump_factor() -> Decimal:
    return Decimal(str(settings.CONTRIBUTIONS_JUMP_FACTOR))


class ReportingPeriodQuerySet(models.QuerySet):
    def open(self):
        return self.filter(closed=False)


class ReportingPeriod(models.Model):
    """A year or quarter for which the secretariat asks member hotlines for their figures."""

    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField(
        null=True, blank=True, choices=[(q, f"Q{q}") for q in range(1, 5)], help_text="Blank for a whole year.",
    )
    period_key = models.PositiveIntegerField(editable=False, help_text="year*10 + quarter, for sorting.")
    deadline = models.DateField(help_text="Submitters are reminded before it and on the day.")
    measures = models.ManyToManyField(Measure, related_name="+", help_text="The figures asked for.")
    jump_factor = models.DecimalField(
        max_digits=5, decimal_places=2, default=default_jump_factor,
        help_text="A figure more than this many times larger (or smaller) than the hotline's previous period "
                  "needs a comment from the submitter.",
    )
    closed = models.BooleanField(default=False, help_text="A closed period takes no more submissions.")
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False,
    )
    opened_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ReportingPeriodQuerySet.as_manager()

    panels = [
        FieldRowPanel([FieldPanel("year"), FieldPanel("quarter")]),
        FieldPanel("deadline"),
        FieldPanel("measures"),
        FieldPanel("jump_factor"),
        FieldPanel("closed"),
    ]

    class Meta:
        ordering = ["-period_key"]
        constraints = [models.UniqueConstraint(fields=["period_key"], name="contributions_period_unique")]
        verbose_name = "reporting period"

    def __str__(self) -> str:
        return self.label

    def save(self, *args, **kwargs):
        self.period_key = period_key(self.year, self.quarter)
        super().save(*args, **kwargs)

    @property
    def label(self) -> str:
        return period_label(self.year, self.quarter)

    @property
    def previous_key(self) -> int:
        """The period before this one, of the same length (2024 → 2023, 2024-Q1 → 2023-Q4)."""
        if self.quarter is None:
            return period_key(self.year - 1, None)
        if self.quarter == 1:
            return period_key(self.year - 1, 4)
        return period_key(self.year, self.quarter - 1)

    @property
    def previous_label(self) -> str:
        year, quarter = divmod(self.previous_key, 10)
        return period_label(year, quarter or None)

    @property
    def is_open(self) -> bool:
        return not self.closed

    def ordered_measures(self) -> list[Measure]:
        return list(self.measures.select_related("at_most").order_by("sort_order", "code"))


class SubmitterRole(models.Model):
    """The "statistics submitter" role: this member may submit figures for their organisation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submitter_roles")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="submitter_roles")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    granted_at = models.DateTimeField(default=timezone.now)

    panels = [FieldPanel("user"), FieldPanel("organisation")]

    class Meta:
        ordering = ["organisation__name", "user__last_name", "user__username"]
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="contributions_role_unique")]
        verbose_name = "statistics submitter"

    def __str__(self) -> str:
        return f"{self.user} submits for {self.organisation}"


class Submission(models.Model):
    """One version of an organisation's figures for a period.

    ``values`` maps measure codes to the figures as entered and checked (counts as integers, shares as strings
    of a decimal number, so no float rounding creeps in); ``comments`` maps codes to the submitter's
    explanations (asked for when a figure jumps against the previous period).
    """

    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"
    SUPERSEDED = "superseded"
    STATUS_CHOICES = [
        (DRAFT, "Draft"), (SUBMITTED, "Submitted, awaiting review"), (RETURNED, "Returned for correction"),
        (APPROVED, "Approved"), (SUPERSEDED, "Replaced by a later version"),
    ]
    FORM = "form"
    CSV = "csv"
    SOURCE_CHOICES = [(FORM, "Form"), (CSV, "CSV upload")]

    period = models.ForeignKey(ReportingPeriod, on_delete=models.CASCADE, related_name="submissions")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="statistics_submissions")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=STATUS_CHOICES, default=DRAFT, db_index=True)
    values = models.JSONField(default=dict, blank=True)
    comments = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=4, choices=SOURCE_CHOICES, default=FORM)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True)

    class Meta:
        ordering = ["period", "organisation__name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["period", "organisation", "version"], name="contributions_version_unique"),
            models.UniqueConstraint(
                fields=["period", "organisation"], condition=models.Q(status="draft"),
                name="contributions_one_draft",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} {self.period} v{self.version} ({self.get_status_display()})"


class ReminderSent(models.Model):
    """A deadline reminder that went to an organisation's submitters; its uniqueness makes the task idempotent."""

    BEFORE = "before"
    ON_DEADLINE = "deadline"
    KIND_CHOICES = [(BEFORE, "Before the deadline"), (ON_DEADLINE, "On the deadline")]

    period = models.ForeignKey(ReportingPeriod, on_delete=models.CASCADE, related_name="reminders")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=KIND_CHOICES)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["period", "organisation", "kind"], name="contributions_reminder_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} reminder for {self.organisation} ({self.period})"


class PracticeSubmission(models.Model):
    """A best-practice article or conference notes a member sent from the members' area.

    The content itself is a draft page (owned by the editors, in the moderation workflow); this row records who
    sent it for which organisation, so the member can follow its state without access to the admin.
    """

    ARTICLE = "article"
    CONFERENCE = "conference"
    KIND_CHOICES = [(ARTICLE, "Best-practice article"), (CONFERENCE, "Conference notes")]

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                             related_name="practice_submissions")
    organisation = models.ForeignKey(Organisation, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=12, choices=KIND_CHOICES, default=ARTICLE)
    title = models.CharField(max_length=255, help_text="As submitted (editors may change the page's title).")
    page = models.ForeignKey("wagtailcore.Page", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "practice submission"

    def __str__(self) -> str:
        return self.title


class AggregationQuerySet(models.QuerySet):
    def not_replaced(self):
        """The versions no later version of the same period and dataset replaced (a replaced one is never
        released)."""
        later = self.model.objects.filter(period=models.OuterRef("period"), dataset=models.OuterRef("dataset"),
                                          version__gt=models.OuterRef("version"))
        return self.exclude(models.Exists(later))


class Aggregation(models.Model):
    """One release of a period's approved figures into a statistics dataset, with its provenance.

    Which organisations contributed, how many were asked (the coverage: "figures from 41 of 46 member
    hotlines"), who ran it, and what changed against the previous aggregation of the same period and dataset.
    A correction is a new version; earlier versions keep their figures in ``snapshot`` (downloadable).
    """

    period = models.ForeignKey(ReportingPeriod, on_delete=models.CASCADE, related_name="aggregations")
    dataset = models.ForeignKey("stats.Dataset", on_delete=models.CASCADE, related_name="aggregations")
    version = models.PositiveIntegerField()
    contributors = models.ManyToManyField(Organisation, related_name="+")
    submissions = models.ManyToManyField(Submission, related_name="aggregations")
    expected = models.PositiveIntegerField(help_text="Member hotlines asked for figures.")
    snapshot = models.JSONField(default=list, help_text="The rows written: country, organisation, values.")
    changes = models.JSONField(default=list, blank=True, help_text="What changed against the previous version.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    release_at = models.DateTimeField(
        null=True, blank=True, help_text="When the figures go into the dataset; until then no channel shows them.")
    released_at = models.DateTimeField(null=True, blank=True)
    NOBODY = ""
    LOGIN = "login"
    GROUPS = "groups"
    PREVIEW_CHOICES = [
        (NOBODY, "Nobody before the release"),
        (LOGIN, "Members who may read the dataset"),
        (GROUPS, "Only members of the groups below (who may read the dataset)"),
    ]
    preview = models.CharField(
        max_length=10, blank=True, choices=PREVIEW_CHOICES, default=LOGIN,
        help_text='Who reads the figures on the statistics page before the release, marked "embargoed until …".')
    preview_groups = models.ManyToManyField("auth.Group", blank=True, related_name="+")
    newsletter_issue = models.ForeignKey(
        "newsletter.NewsletterIssue", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Sent through the newsletter pipeline when the figures are released.")
    newsletter_send = models.ForeignKey("newsletter.Send", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+", editable=False)
    newsletter_problem = models.TextField(blank=True, editable=False,
                                          help_text="Why the issue could not go out at the release.")

    objects = AggregationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["period", "dataset", "version"],
                                               name="contributions_aggregation_version")]

    def __str__(self) -> str:
        return f"{self.period} → {self.dataset} v{self.version}"

    @property
    def in_preview(self) -> bool:
        """Not released yet, and someone may read it before the release."""
        return self.released_at is None and self.preview != self.NOBODY

    @property
    def newsletter_pending(self) -> bool:
        """An issue was chosen to go out at the release, and it has neither been sent nor refused yet."""
        return self.newsletter_issue_id is not None and not self.newsletter_send_id and not self.newsletter_problem

    @property
    def coverage(self) -> str:
        return f"figures from {self.contributors.count()} of {self.expected} member hotlines"
