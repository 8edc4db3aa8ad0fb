"""Chart blocks for the statistics page.

Each block builds a ``ChartTable`` from the page's dataset (loaded once per page by the page's
``get_context`` and passed down as ``stats_data``; the numbers come from ``portal.stats.services.tables``) and
renders it as inline SVG, an accessible table with the same numbers, and a link to the same numbers as CSV.
Blocks never query the database themselves, so a page costs the same number of queries however many
observations or blocks it has. The blocks hold what editors choose; the tables hold the arithmetic.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext

from wagtail import blocks

from django_countries import countries

from portal.core.blocks import HeadingBlock, RichTextBlock
from portal.stats.services import tables
from portal.stats.services.charts import (
    bar_chart_svg,
    horizontal_bar_svg,
    legend_items,
    line_chart_svg,
    split_scale,
    stacked_bar_svg,
)

SHARE_WITHIN_3_DAYS = tables.SHARE_WITHIN_3_DAYS
SHIPPED_MEASURES = [
    ("reports_received", "Reports received"),
    ("reports_illegal", "Reports assessed as illegal"),
    ("items_removed", "Items removed"),
    ("removed_within_3_days", "Removed within 3 days"),
    ("removed_4_to_7_days", "Removed in 4 to 7 days"),
    ("removed_over_7_days", "Removed after more than 7 days"),
]
GRANULARITY_CHOICES = [("year", "Years"), ("quarter", "Quarters")]
CHART_TYPES = {"line": line_chart_svg, "bar": bar_chart_svg}  # a time series' chart_type → how it is drawn


def measure_choices():
    """Measures editors can chart: every Measure row (falls back to the shipped list before migration)."""
    # Imported here: blocks are loaded while the models are, before the app registry is ready for queries.
    from django.db import DatabaseError

    from portal.stats.models.datasets import Measure

    try:
        rows = list(Measure.objects.values_list("code", "label"))
    except DatabaseError:
        rows = []
    return rows or SHIPPED_MEASURES


def series_choices():
    """Measures plus computed KPIs that make sense as a time series."""
    return [*measure_choices(), (SHARE_WITHIN_3_DAYS, "Share removed within 3 days (computed)")]


def country_choices():
    return [("", "Network total"), *((code, name) for code, name in countries)]


def parse_country_list(text: str) -> list[str]:
    """ "de, FR ,, nl" → ["DE", "FR", "NL"]; "network" or blank entries are ignored."""
    return [part.strip().upper() for part in (text or "").split(",") if part.strip()]


class StringChoiceBlock(blocks.ChoiceBlock):
    """A choice block whose keys are strings: values need no lookup in the (database-backed) choices when
    a page is loaded, so rendering costs no query per block."""

    def normalize_choice(self, value):
        return value


class StringMultipleChoiceBlock(blocks.MultipleChoiceBlock):
    """The multiple-choice version of ``StringChoiceBlock``."""

    def normalize_choice(self, value):
        return value


class ChartBlock(blocks.StructBlock):
    """Shared behaviour: build the table, draw the SVG, link the CSV. Every chart block's template is
    ``stats/blocks/chart.html`` but the KPI tiles'."""

    def chart_table(self, value, data):  # pragma: no cover - every subclass implements it
        raise NotImplementedError

    def chart_svg(self, value, table, uid: str) -> str:
        return ""

    def legend(self, table) -> list[tuple[str, str]]:
        """(series, colour) pairs printed under the chart when it draws more than one series."""
        return legend_items(table) if len(table.columns) > 1 else []

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        parent_context = parent_context or {}
        block_id = parent_context.get("block_id") or ""
        context["uid"] = f"chart-{block_id or uuid.uuid4().hex[:8]}"
        context["table"] = None  # no dataset: the template says the chart shows figures once there is one
        data = parent_context.get("stats_data")
        if data is not None:
            context.update(self._chart(value, data, context["uid"]))
            context["csv_url"] = _chart_csv_url(parent_context.get("page"), block_id)
        return context

    def _chart(self, value, data, uid: str) -> dict:
        table = self.chart_table(value, data)
        svg = "" if table.is_empty() else self.chart_svg(value, table, uid)
        return {"table": table, "dataset": data.dataset, "svg": svg, "legend": self.legend(table) if svg else [],
                "definitions": tables.measure_definitions(table, data, self.measure_codes(value)),
                "period_notes": data.notes_for(table.periods)}

    def measure_codes(self, value) -> list[str]:
        """The measure codes this block shows (their definitions are printed beside it)."""
        codes = value.get("measures") or []
        return [*([value["measure"]] if value.get("measure") else []), *codes]


def _chart_csv_url(page, block_id: str) -> str | None:
    return reverse("stats:chart_csv", args=[page.pk, block_id]) if page is not None and block_id else None


class KPITilesBlock(ChartBlock):
    """Headline figures for one period: reports, illegal content, items removed, share removed within 3 days."""

    heading = blocks.CharBlock(max_length=200, required=False, default="Key figures")
    period = blocks.CharBlock(max_length=7, required=False, help_text="e.g. 2014 or 2014-Q2; blank: the latest year")
    country = StringChoiceBlock(choices=country_choices, required=False, help_text="Blank: the network total")

    class Meta:
        template = "stats/blocks/kpi_tiles.html"
        icon = "order"
        label = "KPI tiles"
        description = "Key figures for one year, with the change from the year before."

    def chart_table(self, value, data):
        period = data.chosen_period(value.get("period"))
        return tables.kpi_table(data, heading=value.get("heading"), period=period, place=value.get("country") or "")


class TimeSeriesBlock(ChartBlock):
    """One measure (or the share removed within 3 days) over time, as a line or bar chart."""

    heading = blocks.CharBlock(max_length=200)
    measure = StringChoiceBlock(choices=series_choices, default="reports_received")
    chart_type = blocks.ChoiceBlock(choices=[("line", "Line"), ("bar", "Bars")], default="line")
    countries = blocks.CharBlock(
        max_length=200, required=False,
        help_text="Two-letter country codes separated by commas, e.g. DE, NL. Blank: the network total only.",
    )
    include_network = blocks.BooleanBlock(required=False, default=True, help_text="Also show the network total.")
    granularity = blocks.ChoiceBlock(choices=GRANULARITY_CHOICES, default="year")
    description = blocks.TextBlock(required=False, help_text="What the chart shows, for readers and screen readers.")

    class Meta:
        template = "stats/blocks/chart.html"
        icon = "view"
        label = "Time series chart"
        description = "A measure over the years as a line or bar chart, with its data table."

    def chart_table(self, value, data):
        figure = tables.series_figure(data, value.get("measure") or "reports_received")
        return tables.time_series_table(data, heading=value.get("heading"), figure=figure, places=self.places(value),
                                        granularity=value.get("granularity") or "year",
                                        description=value.get("description") or "")

    @staticmethod
    def places(value) -> list[str]:
        """The countries chosen, after the network total ("") when it is asked for or no country is."""
        countries = parse_country_list(value.get("countries"))
        return ["", *countries] if value.get("include_network") or not countries else countries

    def chart_svg(self, value, table, uid):
        draw = CHART_TYPES.get(value.get("chart_type"), line_chart_svg)
        y_label = table.value_label or value.get("measure") or ""
        parts = split_scale(table) if self.places(value)[0] == "" else [table]
        if len(parts) == 1:
            return draw(table, uid, y_label=y_label, x_label="Period")
        return _on_two_scales(draw, table.title, *parts, uid=uid, y_label=y_label)


def _on_two_scales(draw, title: str, total, countries, *, uid: str, y_label: str) -> str:
    """The network total dwarfs the countries: the total's chart, then the countries' on their own scale."""
    label = gettext("Countries, on their own scale")
    countries = replace(countries, title=f"{title}: {label}")
    return (draw(total, uid, y_label=y_label, x_label="Period")
            + format_html('<p class="stats-chart__part">{}</p>', label)
            + draw(countries, f"{uid}-countries", y_label=y_label, x_label="Period"))


class RemovalTimeBlock(ChartBlock):
    """How fast removed items came down: shares within 3 days, 4-7 days and over 7 days, per period."""

    MEASURES = ["items_removed", "removed_within_3_days", "removed_4_to_7_days", "removed_over_7_days"]

    def measure_codes(self, value) -> list[str]:
        return self.MEASURES

    heading = blocks.CharBlock(max_length=200, default="How fast content was removed")
    country = StringChoiceBlock(choices=country_choices, required=False, help_text="Blank: the network total")
    granularity = blocks.ChoiceBlock(choices=GRANULARITY_CHOICES, default="year")

    class Meta:
        template = "stats/blocks/chart.html"
        icon = "time"
        label = "Removal-time stacked bars"
        description = "Stacked bars of the share of removed items taken down within 3, 4-7 and over 7 days."

    def chart_table(self, value, data):
        return tables.removal_time_table(data, heading=value.get("heading"), place=value.get("country") or "",
                                         granularity=value.get("granularity") or "year")

    def chart_svg(self, value, table, uid):
        return stacked_bar_svg(table, uid, y_label="Share of removed items", x_label="Period")


class CountryTableBlock(ChartBlock):
    """Figures per country for one period, with a bar chart of the first measure."""

    heading = blocks.CharBlock(max_length=200, default="Figures by country")
    period = blocks.CharBlock(max_length=7, required=False, help_text="e.g. 2014; blank: the latest year")
    measures = StringMultipleChoiceBlock(
        choices=measure_choices, default=["reports_received", "items_removed"], required=False
    )
    show_share = blocks.BooleanBlock(required=False, default=True, help_text="Add the share removed within 3 days.")

    class Meta:
        template = "stats/blocks/chart.html"
        icon = "table"
        label = "Per-country table"
        description = "A table of figures per country for one year, with a bar chart."

    def chart_table(self, value, data):
        codes = value.get("measures") or ["reports_received", "items_removed"]
        figures = [tables.measure(code, data.measure_label(code)) for code in codes]
        if value.get("show_share"):
            figures.append(tables.share_within_three_days("Removed within 3 days (share)"))
        return tables.country_table(data, heading=value.get("heading"),
                                    period=data.chosen_period(value.get("period")), figures=figures)

    def chart_svg(self, value, table, uid):
        return horizontal_bar_svg(table, uid, column=0) if table.columns else ""


class StatisticsStreamBlock(blocks.StreamBlock):
    """What editors can put on a statistics page."""

    heading = HeadingBlock()
    text = RichTextBlock()
    kpi_tiles = KPITilesBlock()
    time_series = TimeSeriesBlock()
    removal_times = RemovalTimeBlock()
    country_table = CountryTableBlock()
