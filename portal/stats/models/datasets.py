"""The figures: measures, datasets, their observations, and CSV import runs.

Storage choice: one ``Observation`` row per natural key (dataset, period, country, organisation) with its
figures in a JSON object keyed by measure code (``{"items_removed": 1200, ...}``). Compared with one row per
measure this makes an import of 20,000 lines 20,000 rows instead of 120,000, lets a chart read a whole
dataset with one query and no joins, and still needs no schema change for a new measure: the import checks
every key against the ``Measure`` table, so the JSON holds only known codes and non-negative integers.
Filtering by period and country uses ordinary indexed columns; figures are aggregated in Python, which is
cheap at the sizes a hotline network produces (tens of thousands of rows at most).
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.http import Http404
from django.urls import reverse

from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.models import PageViewRestriction
from wagtail.search import index

from django_countries import countries

from portal.core.privacy import as_viewer


def period_key(year: int, quarter: int | None) -> int:
    """A sortable integer for a period: 2014 → 20140, 2014 Q3 → 20143 (a year sorts before its quarters)."""
    return year * 10 + (quarter or 0)


def period_label(year: int, quarter: int | None) -> str:
    """The period as written in CSV files and shown to readers: "2014" or "2014-Q3"."""
    return f"{year}-Q{quarter}" if quarter else str(year)


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    """The ISO 3166 alpha-2 codes (upper case) an observation's country may hold; blank means network-wide."""
    return frozenset(code for code, _name in countries)


COUNT = "count"
PERCENT = "percent"
MEASURE_KIND_CHOICES = [(COUNT, "Count"), (PERCENT, "Share (per cent)")]


class Measure(models.Model):
    """Something the network counts, such as reports received or items removed within three days."""

    code = models.SlugField(max_length=60, unique=True, help_text="Column name in CSV files, e.g. items_removed.")
    label = models.CharField(max_length=120)
    unit = models.CharField(max_length=40, default="items", help_text="e.g. reports, items")
    description = models.TextField(blank=True, help_text="The definition: what is counted, shown beside the figures.")
    caveat = models.TextField(
        blank=True, help_text="What the figure is not, in a sentence (e.g. not the number of distinct victims).",
    )
    kind = models.CharField(
        max_length=10, choices=MEASURE_KIND_CHOICES, default=COUNT,
        help_text="A count (whole number) or a share in per cent. Observations hold counts; shares are computed.",
    )
    at_most = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name="may not exceed",
        help_text="A figure of this measure may not be larger than the same row's figure of that one "
                  "(reports confirmed illegal may not exceed reports received).",
    )
    sort_order = models.PositiveSmallIntegerField(default=100)

    panels = [
        FieldPanel("code"),
        FieldPanel("label"),
        FieldPanel("unit"),
        FieldPanel("description"),
        FieldPanel("caveat"),
        FieldPanel("kind"),
        FieldPanel("at_most"),
        FieldPanel("sort_order"),
    ]

    class Meta:
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.label


class DatasetQuerySet(models.QuerySet):
    def visible_to(self, viewer) -> DatasetQuerySet:
        """The datasets this viewer may read (see ``Dataset.is_visible_to``)."""
        viewer = as_viewer(viewer)
        if viewer.superuser:
            return self
        if not viewer.authenticated:
            return self.filter(restriction=Dataset.PUBLIC)
        restricted = self.exclude(restriction=Dataset.PUBLIC).prefetch_related("groups")
        allowed = [dataset.pk for dataset in restricted if dataset.is_visible_to(viewer)]
        return self.filter(models.Q(restriction=Dataset.PUBLIC) | models.Q(pk__in=allowed))


class Dataset(index.Indexed, models.Model):
    """A published collection of figures, e.g. the network's yearly hotline statistics.

    Access mirrors Wagtail's page view restrictions (public, any logged-in member, or members of given
    groups) and is decided by the privacy gate's ``Viewer.passes``; no channel checks it by itself.
    """

    PUBLIC = "public"
    LOGIN = PageViewRestriction.LOGIN
    GROUPS = PageViewRestriction.GROUPS
    RESTRICTION_CHOICES = [
        (PUBLIC, "Public: anyone may read it"),
        (LOGIN, "Members only: any logged-in member"),
        (GROUPS, "Only members of the groups below"),
    ]

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True, help_text="Used in URLs and the API.")
    description = models.TextField(blank=True)
    source = models.CharField(max_length=250, blank=True, help_text="Who collected the figures.")
    licence = models.CharField(max_length=200, blank=True, help_text="e.g. CC BY 4.0")
    unit_notes = models.TextField(blank=True, help_text="How the figures were counted; caveats for readers.")
    illustrative = models.BooleanField(
        default=False, help_text="The figures are illustrative, not real: every chart says so."
    )
    restriction = models.CharField(max_length=10, choices=RESTRICTION_CHOICES, default=PUBLIC)
    groups = models.ManyToManyField(Group, blank=True, related_name="+", help_text="For group restrictions.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DatasetQuerySet.as_manager()

    panels = [
        FieldPanel("title"),
        FieldPanel("slug"),
        FieldPanel("description"),
        FieldPanel("source"),
        FieldPanel("licence"),
        FieldPanel("unit_notes"),
        FieldPanel("illustrative"),
        MultiFieldPanel([FieldPanel("restriction"), FieldPanel("groups")], heading="Who may read it"),
    ]
    search_fields = [index.SearchField("title"), index.AutocompleteField("title")]

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return f"{self.title} (illustrative)" if self.illustrative and "illustrative" not in self.title else self.title

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        if not self.is_public:
            for page in self.pages.all():  # the statistics pages showing this dataset
                page.sync_view_restriction()

    @property
    def is_public(self) -> bool:
        return self.restriction == self.PUBLIC

    def is_visible_to(self, viewer) -> bool:
        """Whether this viewer may read the dataset, decided by the privacy gate's restriction logic."""
        if self.is_public:
            return True
        restriction = PageViewRestriction(restriction_type=self.restriction)
        group_ids = [group.pk for group in self.groups.all()] if self.restriction == self.GROUPS else []
        return as_viewer(viewer).passes(restriction, group_ids)

    def get_csv_url(self) -> str:
        return reverse("stats:dataset_csv", args=[self.slug])

    def get_api_url(self) -> str:
        return reverse("stats_api:observations", args=[self.slug])


def get_visible_dataset_or_404(slug: str, viewer) -> Dataset:
    """The dataset with this slug if the viewer may read it; 404 otherwise, so existence does not leak."""
    dataset = Dataset.objects.filter(slug=slug).prefetch_related("groups").first()
    if dataset is None or not dataset.is_visible_to(viewer):
        raise Http404("No such dataset")
    return dataset


class Observation(models.Model):
    """The figures for one dataset, period, country (blank: network-wide) and organisation (blank: all)."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="observations")
    year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField(null=True, blank=True)
    period_key = models.PositiveIntegerField(help_text="year*10 + quarter (0 for a whole year), for sorting.")
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 alpha-2; blank for network-wide.")
    organisation = models.CharField(max_length=200, blank=True, help_text="Hotline or organisation; blank for all.")
    values = models.JSONField(default=dict, help_text="Figures keyed by measure code.")

    class Meta:
        ordering = ["period_key", "country", "organisation"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "period_key", "country", "organisation"], name="stats_observation_natural_key"
            ),
        ]
        indexes = [models.Index(fields=["dataset", "country", "period_key"], name="stats_obs_country_period")]

    def __str__(self) -> str:
        return f"{self.dataset_id} {self.period} {self.country or 'network'} {self.organisation}".strip()

    def save(self, *args, **kwargs):
        self.period_key = period_key(self.year, self.quarter)
        super().save(*args, **kwargs)

    @property
    def period(self) -> str:
        return period_label(self.year, self.quarter)

    @property
    def country_name(self) -> str:
        return countries.name(self.country) if self.country else "Network total"


class PeriodNote(models.Model):
    """What readers should know about one period of a dataset: where its figures come from (the coverage,
    "figures from 41 of 46 member hotlines") and whether they changed after release. Shown on the statistics
    page and in the API; written by whatever publishes the figures (member contributions)."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="period_notes")
    period_key = models.PositiveIntegerField()
    period = models.CharField(max_length=7, help_text='As readers see it: "2014" or "2014-Q3".')
    coverage = models.CharField(max_length=300, blank=True)
    contributors = models.PositiveIntegerField(
        null=True, blank=True, help_text="How many member hotlines the figures come from (with expected: the "
                                         "coverage in the reader's language).")
    expected = models.PositiveIntegerField(null=True, blank=True, help_text="How many were asked.")
    correction = models.TextField(blank=True, help_text="What changed after the figures were first released.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period_key"]
        constraints = [models.UniqueConstraint(fields=["dataset", "period_key"], name="stats_period_note_unique")]

    def __str__(self) -> str:
        return f"{self.dataset_id} {self.period}"


class ImportRun(models.Model):
    """One CSV upload from the admin: the file, who sent it, the dry-run plan and the outcome."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    STATUS_CHOICES = [(PENDING, "Checked, not imported"), (RUNNING, "Importing"), (DONE, "Imported"),
                      (FAILED, "Failed")]

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="import_runs")
    filename = models.CharField(max_length=255)
    content = models.TextField(help_text="The uploaded CSV text, kept so the confirmed import is what was checked.")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=STATUS_CHOICES, default=PENDING)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} → {self.dataset} ({self.get_status_display()})"
