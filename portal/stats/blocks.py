"""Chart blocks for the statistics page.

Each block builds a ``ChartTable`` from the page's dataset (loaded once per page by the page's
``get_context`` and passed down as ``stats_data``) and renders it as inline SVG, an accessible table with
the same numbers, and a link to the same numbers as CSV. Blocks never query the database themselves, so
a page costs the same number of queries however many observations or blocks it has.
"""

from __future__ import annotations

import uuid

from django.urls import reverse

from wagtail import blocks

from portal.core.blocks import HeadingBlock, RichTextBlock

SHARE_WITHIN_3_DAYS = "share_within_3_days"
SHIPPED_MEASURES = [
    ("reports_received", "Reports received"),
    ("reports_illegal", "Reports assessed as illegal"),
    ("items_removed", "Items removed"),
    ("removed_within_3_days", "Removed within 3 days"),
    ("removed_4_to_7_days", "Removed in 4 to 7 days"),
    ("removed_over_7_days", "Removed after more than 7 days"),
]


def measure_choices():
    """Measures editors can chart: every Measure row (falls back to the shipped list before migration)."""
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
    from django_countries import countries

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
    """Shared behaviour: build the table, draw the SVG, link the CSV."""

    chart_template = ""

    def chart_table(self, value, data):  # pragma: no cover - every subclass implements it
        raise NotImplementedError

    def chart_svg(self, value, table, uid: str) -> str:
        return ""

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        parent_context = parent_context or {}
        data = parent_context.get("stats_data")
        block_id = parent_context.get("block_id") or ""
        context["uid"] = f"chart-{block_id or uuid.uuid4().hex[:8]}"
        if data is None:
            context["table"] = None
            return context
        table = self.chart_table(value, data)
        context["table"] = table
        context["dataset"] = data.dataset
        context["svg"] = self.chart_svg(value, table, context["uid"]) if not table.is_empty() else ""
        page = parent_context.get("page")
        if page is not None and block_id:
            context["csv_url"] = reverse("stats:chart_csv", args=[page.pk, block_id])
        return context


def _chosen_period(value, data):
    """The period an editor typed in the block (e.g. "2014"), or the dataset's latest year when blank."""
    return data.find_period(value["period"]) if value.get("period") else data.latest_period()


def _values_series(data, country: str, code: str, periods):
    from portal.stats.services.kpis import share_removed_within_three_days

    out = []
    for key, _label in periods:
        values = data.values_for(country, key)
        out.append(share_removed_within_three_days(values) if code == SHARE_WITHIN_3_DAYS else values.get(code))
    return out


def _country_label(code: str) -> str:
    from django_countries import countries

    return countries.name(code) or code if code else "Network total"


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
        from portal.stats.services.charts import ChartTable
        from portal.stats.services.kpis import share_removed_within_three_days, year_on_year_change

        period = _chosen_period(value, data)
        country = value.get("country") or ""
        where = _country_label(country)
        if period is None:
            return ChartTable(title=value.get("heading") or "Key figures", row_header="Figure", columns=["Value"],
                              rows=[])
        key, label = period
        values = data.values_for(country, key)
        previous = data.previous_period(key)
        before = data.values_for(country, previous[0]) if previous else {}
        rows = [
            ("Reports received", [values.get("reports_received")]),
            ("Reports assessed as illegal", [values.get("reports_illegal")]),
            ("Items removed", [values.get("items_removed")]),
            ("Share of removed items taken down within 3 days", [share_removed_within_three_days(values)]),
            (
                f"Change in reports received since {previous[1] if previous else 'the year before'}",
                [year_on_year_change(values.get("reports_received"), before.get("reports_received"))],
            ),
        ]
        return ChartTable(
            title=f"{value.get('heading') or 'Key figures'}: {where}, {label}",
            row_header="Figure",
            columns=[label],
            rows=rows,
            row_kinds=["count", "count", "count", "percent", "change"],
        )


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
    granularity = blocks.ChoiceBlock(choices=[("year", "Years"), ("quarter", "Quarters")], default="year")
    description = blocks.TextBlock(required=False, help_text="What the chart shows, for readers and screen readers.")

    class Meta:
        template = "stats/blocks/time_series.html"
        icon = "view"
        label = "Time series chart"
        description = "A measure over the years as a line or bar chart, with its data table."

    def chart_table(self, value, data):
        from portal.stats.services.charts import ChartTable

        code = value.get("measure") or "reports_received"
        periods = data.periods_of(value.get("granularity") or "year")
        places = parse_country_list(value.get("countries"))
        if value.get("include_network") or not places:
            places = ["", *places]
        columns = [_country_label(code_) for code_ in places]
        series = [_values_series(data, place, code, periods) for place in places]
        rows = [(label, [column[index] for column in series]) for index, (_key, label) in enumerate(periods)]
        kind = "percent" if code == SHARE_WITHIN_3_DAYS else "count"
        label = "Share removed within 3 days" if code == SHARE_WITHIN_3_DAYS else data.measure_label(code)
        return ChartTable(
            title=value.get("heading") or label, row_header="Period", columns=columns, rows=rows, kind=kind,
            description=value.get("description") or "", value_label=label,
        )

    def chart_svg(self, value, table, uid):
        from portal.stats.services.charts import bar_chart_svg, line_chart_svg

        code = value.get("measure") or ""
        y_label = table.value_label or code
        draw = bar_chart_svg if value.get("chart_type") == "bar" else line_chart_svg
        return draw(table, uid, y_label=y_label, x_label="Period")


class RemovalTimeBlock(ChartBlock):
    """How fast removed items came down: shares within 3 days, 4-7 days and over 7 days, per period."""

    heading = blocks.CharBlock(max_length=200, default="How fast content was removed")
    country = StringChoiceBlock(choices=country_choices, required=False, help_text="Blank: the network total")
    granularity = blocks.ChoiceBlock(choices=[("year", "Years"), ("quarter", "Quarters")], default="year")

    class Meta:
        template = "stats/blocks/removal_times.html"
        icon = "time"
        label = "Removal-time stacked bars"
        description = "Stacked bars of the share of removed items taken down within 3, 4-7 and over 7 days."

    def chart_table(self, value, data):
        from portal.stats.services.charts import ChartTable
        from portal.stats.services.kpis import NOT_REPORTED, REMOVAL_BUCKETS, removal_time_shares

        country = value.get("country") or ""
        periods = data.periods_of(value.get("granularity") or "year")
        shares = [removal_time_shares(data.values_for(country, key)) for key, _label in periods]
        keys = list(REMOVAL_BUCKETS)
        names = ["Within 3 days", "4 to 7 days", "Over 7 days"]
        if any(row[NOT_REPORTED] for row in shares):
            keys.append(NOT_REPORTED)
            names.append("Time not reported")
        rows = [(label, [row[key] for key in keys]) for (_key, label), row in zip(periods, shares, strict=True)]
        return ChartTable(
            title=f"{value.get('heading') or 'Removal times'}: {_country_label(country)}",
            row_header="Period", columns=names, rows=rows, kind="percent",
            description=f"Share of removed items by time to removal, {_country_label(country)}, per period. "
                        "The same figures are in the table below.",
        )

    def chart_svg(self, value, table, uid):
        from portal.stats.services.charts import stacked_bar_svg

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
        template = "stats/blocks/country_table.html"
        icon = "table"
        label = "Per-country table"
        description = "A table of figures per country for one year, with a bar chart."

    def chart_table(self, value, data):
        from portal.stats.services.charts import ChartTable
        from portal.stats.services.kpis import share_removed_within_three_days

        period = _chosen_period(value, data)
        codes = list(value.get("measures") or ["reports_received", "items_removed"])
        columns = [data.measure_label(code) for code in codes]
        kinds = ["count"] * len(codes)
        if value.get("show_share"):
            columns.append("Removed within 3 days (share)")
            kinds.append("percent")
        rows = []
        label = period[1] if period else ""
        if period:
            for country in data.countries:
                values = data.country_values(country, period[0])
                if not values:
                    continue
                cells = [values.get(code) for code in codes]
                if value.get("show_share"):
                    cells.append(share_removed_within_three_days(values))
                rows.append((_country_label(country), cells))
        return ChartTable(
            title=f"{value.get('heading') or 'Figures by country'}, {label}".rstrip(", "),
            row_header="Country", columns=columns, rows=rows, column_kinds=kinds,
            description=f"{columns[0] if columns else 'Figures'} per country in {label}. "
                        "All figures are in the table below.",
        )

    def chart_svg(self, value, table, uid):
        from portal.stats.services.charts import horizontal_bar_svg

        if not table.columns:
            return ""
        return horizontal_bar_svg(table, uid, column=0)


class StatisticsStreamBlock(blocks.StreamBlock):
    """What editors can put on a statistics page."""

    heading = HeadingBlock()
    text = RichTextBlock()
    kpi_tiles = KPITilesBlock()
    time_series = TimeSeriesBlock()
    removal_times = RemovalTimeBlock()
    country_table = CountryTableBlock()
