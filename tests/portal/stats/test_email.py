"""Email-safe rendering of KPIs and bar charts for newsletters."""

import re

from portal.core.privacy import Viewer
from portal.stats.services.email import (
    render_email_bar_chart,
    render_email_dataset_bar_chart,
    render_email_dataset_kpis,
    render_email_kpi,
)


def assert_email_safe(html):
    assert "<svg" not in html and "<script" not in html and "class=" not in html
    assert "<table" in html and "style=" in html


def test_kpi_is_a_styled_table_with_escaped_text():
    html = render_email_kpi("91%", "removed within <three> days", source="Network 2014")
    assert_email_safe(html)
    assert "91%" in html and "removed within &lt;three&gt; days" in html and "Source: Network 2014" in html


def test_bar_chart_draws_bars_in_proportion_and_writes_values():
    html = render_email_bar_chart("Items removed", [("Germany", 200), ("Netherlands", 100), ("France", None)],
                                  width=300)
    assert_email_safe(html)
    assert re.findall(r'width="(\d+)" height="14"', html) == ["300", "150"]
    assert "200" in html and "n/a" in html and "France" in html


def test_dataset_helpers_respect_the_audience(dataset, members_only):
    html = render_email_dataset_kpis(dataset, Viewer.anonymous())
    assert_email_safe(html)
    assert "91%" in html and "1,200" in html
    chart = render_email_dataset_bar_chart(dataset, Viewer.anonymous(), period="2014")
    assert "Germany" in chart and "100" in chart
    # A members-only dataset renders nothing for the public audience, and its figures for members.
    assert render_email_dataset_kpis(members_only, Viewer.anonymous()) == ""
    assert render_email_dataset_bar_chart(members_only, Viewer.anonymous()) == ""
    assert "777,777" in render_email_dataset_kpis(members_only, Viewer.members_of([]))
