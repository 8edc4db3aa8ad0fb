"""What a reader sees on the statistics page and on an article (issue 20, points 6 and 12), at 390 and 1280 px:
key figures level with each other, the countries' lines on a scale of their own, chart text readable on a phone,
table captions not cut off, and the article's share image shown."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, fresh_page

SMALLEST_TEXT = """sel => Math.min(...[...document.querySelectorAll(sel)]
    .filter(t => t.getBoundingClientRect().height > 0)
    .map(t => t.getBoundingClientRect().height))"""


def open_statistics(site, page):
    from portal.stats.models import StatisticsPage

    statistics = StatisticsPage.objects.live().filter(locale__language_code="en").first()
    page.goto(site.absolute(statistics.get_url()))
    expect(page.get_by_role("heading", level=1)).to_have_text("Network statistics")


def test_key_figures_are_level_and_the_countries_have_their_own_scale(site, new_context):
    page = fresh_page(new_context, viewport=DESKTOP)
    open_statistics(site, page)
    tops = page.evaluate("[...document.querySelectorAll('.stats-kpi__value')].map(v => v.getBoundingClientRect().top)")
    assert len(tops) >= 4 and max(tops) - min(tops) < 1, tops
    heights = page.evaluate("[...document.querySelectorAll('.stats-kpi')].map(t => t.getBoundingClientRect().height)")
    assert max(heights) - min(heights) < 1, heights
    # The network total is several times any country: the countries get a second chart on their own scale.
    reports = page.locator(".stats-chart").filter(has=page.get_by_role("heading", name="Reports received", exact=True))
    expect(reports.get_by_text("Countries, on their own scale", exact=True)).to_be_visible()
    assert reports.locator("svg.stats-chart__svg").count() == 2
    country_chart = reports.locator("svg.stats-chart__svg").nth(1)
    spread = country_chart.evaluate("""svg => {
        const ys = [...svg.querySelectorAll('circle')].map(c => c.getBoundingClientRect().top);
        return Math.max(...ys) - Math.min(...ys);
    }""")
    chart_height = country_chart.bounding_box()["height"]
    assert spread > chart_height / 3, (spread, chart_height)  # the lines use the chart, not its bottom strip
    # The legend is text under the chart, every series named.
    expect(reports.locator(".stats-legend li")).to_have_text(["Network total", "Germany", "Netherlands",
                                                             "United Kingdom"])


@pytest.mark.parametrize("viewport", [pytest.param(PHONE, id="390px"), pytest.param(DESKTOP, id="1280px")])
def test_chart_text_is_readable_and_captions_are_whole(site, new_context, viewport):
    page = fresh_page(new_context, viewport=viewport)
    open_statistics(site, page)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    smallest = page.evaluate(SMALLEST_TEXT, ".stats-chart__svg--vertical text")
    assert smallest >= 10, f"chart text {smallest:.1f} px high"  # about 5 px at 390 px before
    for caption in page.locator(".stats-table caption").all():
        box = caption.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] + 0.5, (caption.inner_text(), box)


@pytest.mark.parametrize("viewport", [pytest.param(PHONE, id="390px"), pytest.param(DESKTOP, id="1280px")])
def test_an_article_shows_its_share_image(site, new_context, viewport):
    page = fresh_page(new_context, viewport=viewport)
    from portal.pages.models import ArticlePage

    article = ArticlePage.objects.live().filter(locale__language_code="en", social_image__isnull=False).first()
    page.goto(site.absolute(article.get_url()))
    image = page.locator(".article__image img")
    expect(image).to_be_visible()
    loaded = image.evaluate("img => img.complete && img.naturalWidth")  # served through the privacy-gated /media/
    box = image.bounding_box()
    assert box["width"] <= viewport["width"] and box["height"] > 100
    assert loaded >= box["width"] - 1  # a rendition at least as wide as it is shown, not a stretched thumbnail
    og = page.locator("meta[property='og:image']").get_attribute("content")
    assert og and "/media/" in og
