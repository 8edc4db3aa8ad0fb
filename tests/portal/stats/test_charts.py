"""SVG charts are well-formed XML with an accessible title, and their tables carry the same numbers."""

import re
import xml.etree.ElementTree as ET

import pytest

from portal.stats.blocks import CountryTableBlock, KPITilesBlock, RemovalTimeBlock, TimeSeriesBlock
from portal.stats.services.charts import (
    ChartTable,
    bar_chart_svg,
    horizontal_bar_svg,
    line_chart_svg,
    nice_max,
    stacked_bar_svg,
)
from portal.stats.services.data import load_dataset_data

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    return root


def test_nice_max():
    assert [nice_max(v) for v in (0, 7, 12, 230, 2400, 0.91)] == [1, 10, 20, 250, 2500, 1]


@pytest.mark.parametrize("draw", [line_chart_svg, bar_chart_svg, stacked_bar_svg])
def test_charts_are_well_formed_with_title_desc_and_escaped_text(draw):
    table = ChartTable(
        title="Reports <received> & removed", row_header="Period", columns=["Network total", "Côte d'Ivoire"],
        rows=[("2013", [1000, 10]), ("2014", [1200, None])],
    )
    root = parse(draw(table, "c1", y_label="Reports", x_label="Period"))
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title.text == "Reports <received> & removed"
    assert root.get("aria-labelledby") == "c1-title c1-desc"
    assert desc.text
    texts = [el.text for el in root.iter(f"{SVG}text")]
    assert "Reports" in texts and "Period" in texts  # axis labels
    assert "2013" in texts and "2014" in texts


def test_horizontal_bars_show_the_values_in_the_svg_text():
    table = ChartTable(title="By country", row_header="Country", columns=["Items removed"],
                       rows=[("Germany", [100]), ("Netherlands", [None])])
    root = parse(horizontal_bar_svg(table, "h1"))
    texts = [el.text for el in root.iter(f"{SVG}text")]
    assert "100" in texts and "n/a" in texts and "Items removed" in texts


def test_empty_table_draws_a_message_not_a_broken_chart():
    table = ChartTable(title="Nothing", row_header="Period", columns=["A"], rows=[])
    root = parse(line_chart_svg(table, "e1"))
    assert "No figures available" in [el.text for el in root.iter(f"{SVG}text")]


def test_time_series_table_svg_and_csv_carry_the_same_numbers(dataset):
    data = load_dataset_data(dataset)
    block = TimeSeriesBlock()
    value = block.to_python({"heading": "Reports", "measure": "reports_received", "chart_type": "line",
                             "countries": "DE", "include_network": True, "granularity": "year"})
    table = block.chart_table(value, data)
    assert table.columns == ["Network total", "Germany"]
    assert table.rows == [("2013", [1000, None]), ("2014", [1200, 300])]
    assert table.formatted_rows() == [("2013", ["1,000", "n/a"]), ("2014", ["1,200", "300"])]
    assert table.csv_rows() == [["Period", "Network total", "Germany"], ["2013", "1000", ""], ["2014", "1200", "300"]]
    # The total is four times Germany's figure: Germany is drawn in a second chart on its own scale.
    drawn = block.chart_svg(value, table, "t1")
    svgs = re.findall(r"<svg .*?</svg>", drawn, re.S)
    assert len(svgs) == 2 and "Countries, on their own scale" in drawn
    tooltips = [el.text for svg in svgs for el in parse(svg).iter(f"{SVG}title")]
    assert "Network total, 2014: 1,200" in tooltips and "Germany, 2014: 300" in tooltips


def test_removal_time_block_shares_match_hand_computed_values(dataset):
    data = load_dataset_data(dataset)
    block = RemovalTimeBlock()
    table = block.chart_table(block.to_python({"heading": "Speed", "country": "", "granularity": "year"}), data)
    # 2013: 300/400, 60/400, 40/400; 2014: 455/500, 30/500, 15/500.
    assert table.rows == [("2013", [0.75, 0.15, 0.1]), ("2014", [0.91, 0.06, 0.03])]
    assert table.formatted_rows()[1] == ("2014", ["91.0%", "6.0%", "3.0%"])


def test_kpi_tiles_compute_share_and_year_on_year_change(dataset):
    data = load_dataset_data(dataset)
    block = KPITilesBlock()
    table = block.chart_table(block.to_python({"heading": "Key figures", "period": "", "country": ""}), data)
    shown = dict(table.formatted_rows())
    assert shown["Reports received"] == ["1,200"]
    assert shown["Share of removed items taken down within 3 days"] == ["91.0%"]
    assert shown["Change in reports received since 2013"] == ["+20.0%"]


def test_country_table_lists_countries_with_share(dataset):
    data = load_dataset_data(dataset)
    block = CountryTableBlock()
    value = block.to_python({"heading": "By country", "period": "2014",
                             "measures": ["reports_received", "items_removed"], "show_share": True})
    table = block.chart_table(value, data)
    assert table.rows == [("Germany", [300, 100, 0.9]), ("Netherlands", [200, 80, 0.75])]
    assert table.formatted_rows()[0] == ("Germany", ["300", "100", "90.0%"])


def test_rendered_block_has_svg_and_table_with_the_same_numbers(dataset):
    data = load_dataset_data(dataset)
    block = TimeSeriesBlock()
    value = block.to_python({"heading": "Reports", "measure": "reports_received", "chart_type": "bar",
                             "countries": "", "include_network": True, "granularity": "year"})
    html = block.render(value, context={"stats_data": data, "block_id": "abc"})
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    parse(svg)
    table_cells = re.findall(r"<td>([^<]*)</td>", html)
    assert table_cells == ["1,000", "1,200"]
    assert "Network total, 2014: 1,200" in svg


def test_a_network_total_that_dwarfs_the_countries_splits_the_chart_and_keeps_the_colours():
    # Issue 20, point 6: the countries' lines were squashed at the bottom under the network total's scale.
    from portal.stats.services.charts import legend_items, split_scale

    table = ChartTable(title="Reports received", row_header="Period",
                       columns=["Network total", "Germany", "Netherlands"],
                       rows=[("2014", [48_600, 7_776, 5_832]), ("2015", [55_200, 8_832, 6_624])])
    total, countries = split_scale(table)
    assert total.columns == ["Network total"] and [values for _label, values in total.rows] == [[48_600], [55_200]]
    assert countries.columns == ["Germany", "Netherlands"] and countries.rows[1] == ("2015", [8_832, 6_624])
    # The parts keep the colours of the whole (its legend), so Germany is the same colour in both places.
    assert legend_items(countries) == legend_items(table)[1:]
    assert f'stroke="{legend_items(table)[1][1]}"' in line_chart_svg(countries, "c")
    # Comparable series stay on one chart.
    close = ChartTable(title="t", row_header="Period", columns=["Network total", "Germany"],
                       rows=[("2015", [10_000, 4_000])])
    assert split_scale(close) == [close]
