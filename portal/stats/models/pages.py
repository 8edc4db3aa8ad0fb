"""The statistics page: charts about one dataset, built from the chart blocks.

Above the blocks and the services in the app's layers: nothing but ``portal.stats.models`` imports this module.
"""

from __future__ import annotations

from django.db import models

from wagtail import hooks
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page, PageViewRestriction
from wagtail.search import index

from portal.pages.models import BasePage
from portal.stats.blocks import StatisticsStreamBlock
from portal.stats.models.datasets import Dataset


class StatisticsPage(BasePage):
    """A page of charts about one dataset: KPI tiles, time series, removal times and a country table.

    Every chart is drawn on the server as SVG with a data table beside it, so it needs no JavaScript and
    prints. If the dataset is restricted, the page gets the same view restriction (so menus, search and the
    sitemap skip it) and viewers who may not read the dataset get a 404, as in the API and CSV (see the
    ``before_serve_page`` hook in ``wagtail_hooks``).
    """

    intro = RichTextField(features=["bold", "italic", "link"], blank=True)
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="pages")
    body = StreamField(StatisticsStreamBlock(), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("dataset"), FieldPanel("body")]
    search_fields = [*Page.search_fields, index.SearchField("intro")]

    parent_page_types = ["pages.HomePage"]
    subpage_types: list[str] = []
    template = "stats/statistics_page.html"

    class Meta:
        verbose_name = "statistics page"

    def save(self, *args, **kwargs):
        result = super().save(*args, **kwargs)
        self.sync_view_restriction()
        return result

    def sync_view_restriction(self) -> None:
        """Give the page the same view restriction as its restricted dataset, so the privacy gate hides it
        from menus, listings, search and the sitemap as well (not only its content). Restrictions that
        editors set themselves are left alone, and a public dataset never removes one."""
        if self.pk is None or self.dataset_id is None or self.dataset.is_public:
            return
        if PageViewRestriction.objects.filter(page=self).exists():
            return
        restriction = PageViewRestriction.objects.create(page=self, restriction_type=self.dataset.restriction)
        if self.dataset.restriction == Dataset.GROUPS:
            restriction.groups.set(self.dataset.groups.all())

    def get_context(self, request, *args, **kwargs):
        # Imported here: the services import portal.stats.models.datasets, which is loaded first by the
        # models package, so a module-level import would break whenever a service is the first import.
        from portal.stats.services.data import load_dataset_data

        context = super().get_context(request, *args, **kwargs)
        context["stats_data"] = load_dataset_data(self.dataset)
        # Other apps add sections about the dataset (contributions: embargoed figures for the members allowed
        # to read them early, earlier versions of corrected figures). Each hook is called as
        # fn(request, dataset) and returns HTML, "" for nothing; it decides itself who may read what.
        context["dataset_sections"] = [
            html for fn in hooks.get_hooks("statistics_page_sections") if (html := fn(request, self.dataset))]
        return context
