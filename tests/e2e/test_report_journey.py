"""The public's journey: from the home page to the right hotline's report link in at most two clicks, at phone
and desktop widths, with JavaScript on and off; the fallback for a country without a hotline; axe on the
directory."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, fresh_page, screenshot, short_timeouts
from tests.e2e.test_accessibility import axe_violations

WIDTHS = [pytest.param(PHONE, id="390px"), pytest.param(DESKTOP, id="1280px")]
SCRIPTS = [pytest.param(True, id="js"), pytest.param(False, id="no-js")]


@pytest.fixture
def browser_in(browser):
    """A page in a browser whose language settings say ``locale`` (its Accept-Language header)."""
    contexts = []

    def open_page(locale: str, **context_args):
        context = browser.new_context(locale=locale, **context_args)
        contexts.append(context)
        return short_timeouts(context.new_page())

    yield open_page
    for context in contexts:
        context.close()


def report_button(page):
    """The header's report link (on every page; on a phone its visible text is just "Report")."""
    return page.get_by_role("banner").get_by_role("link", name="Report illegal content")


@pytest.mark.parametrize("viewport", WIDTHS)
@pytest.mark.parametrize("javascript", SCRIPTS)
def test_home_to_a_countrys_report_link_in_two_clicks(site, new_context, viewport, javascript):
    page = fresh_page(new_context, viewport=viewport, java_script_enabled=javascript)
    site.home(page)
    report_button(page).click()  # click 1
    expect(page.get_by_role("heading", level=1)).to_have_text("Where to report")
    page.get_by_role("list").filter(has=page.get_by_role("link", name="Belgium")).get_by_role(
        "link", name="France").click()  # click 2
    results = page.locator("#results")
    expect(results.get_by_role("heading", level=2)).to_have_text("Where to report in France")
    link = results.get_by_role("link", name="Report to Ligne Claire")
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", "https://report.ligne-claire.example/")
    expect(link).to_be_in_viewport()  # the address's #results brings the answer into view
    if javascript:
        screenshot(page, f"report-journey-france-{viewport['width']}")


@pytest.mark.parametrize("viewport", WIDTHS)
@pytest.mark.parametrize("javascript", SCRIPTS)
def test_a_country_without_a_hotline_gets_the_fallback(site, browser_in, viewport, javascript):
    # A browser set to French as spoken in Luxembourg: one click, and the directory already answers for it.
    page = browser_in("fr-LU", viewport=viewport, java_script_enabled=javascript)
    page.goto(site.url + "/en/")
    report_button(page).click()
    results = page.locator("#results")
    expect(results).to_contain_text("Luxembourg has no member hotline yet.")
    expect(results.get_by_role("link", name="Report to Meldpunt Lage Landen")).to_be_visible()
    # Any other country without a hotline, chosen in the form: the international channel.
    page.get_by_label("Your country").select_option("GR")
    page.get_by_role("button", name="Show hotlines").click()
    expect(results).to_contain_text("Greece has no member hotline yet.")
    expect(results.get_by_role("link", name="Report to Network International Reporting Channel")).to_be_visible()


def test_filters_and_the_map_without_javascript(site, browser_in):
    page = browser_in("en", java_script_enabled=False)
    page.goto(site.url + "/en/")
    report_button(page).click()
    page.get_by_label("Your country").select_option("FR")
    page.get_by_label("What you want to report").select_option("sextortion")
    page.get_by_role("button", name="Show hotlines").click()
    results = page.locator("#results")
    expect(results.locator("[data-report-link]")).to_have_count(2)  # the demo's two French hotlines take it
    page.get_by_label("Language you want to report in").select_option("en")
    page.get_by_role("button", name="Show hotlines").click()
    expect(results.locator("[data-report-link]")).to_have_count(1)
    expect(results.get_by_role("link", name="Report to Ligne Claire")).to_be_visible()
    page.locator(".hotline-map").get_by_role("link", name="Poland: 1 hotline").click()
    expect(results.get_by_role("heading", level=2)).to_have_text("Where to report in Poland")


def test_the_directory_has_no_serious_axe_violations(site, browser_in):
    found = {}
    for viewport in (PHONE, DESKTOP):
        page = browser_in("en", viewport=viewport, bypass_csp=True)
        page.goto(site.url + "/en/")
        report_button(page).click()
        found["directory"] = axe_violations(page)
        page.get_by_role("list").filter(has=page.get_by_role("link", name="Belgium")).get_by_role(
            "link", name="Italy").click()
        found["directory: a country"] = axe_violations(page)
        page.goto(page.url.split("?")[0] + "?country=ZZ")
        found["directory: bad input"] = axe_violations(page)
        assert not any(found.values()), found
        page.close()


def test_the_header_fits_and_nothing_shifts(site, new_context):
    """Issue 20, points 2 and 7: the main menu is one row at 1280 px; on a phone the header leaves most of the
    screen to the content and the menu does not collapse after load (no layout shift)."""
    desktop = fresh_page(new_context, viewport=DESKTOP)
    site.home(desktop)
    rows = desktop.evaluate(
        "new Set([...document.querySelectorAll('.main-nav__link')].map(a => Math.round(a.getBoundingClientRect().top)))"
        ".size")
    assert rows == 1
    phone = fresh_page(new_context, viewport=PHONE)
    site.home(phone)
    assert phone.evaluate("document.querySelector('.site-header').getBoundingClientRect().height") <= 230
    expect(phone.get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "false")
    shift = phone.evaluate("""() => new Promise(resolve => {
        let total = 0;
        new PerformanceObserver(list => { for (const e of list.getEntries()) if (!e.hadRecentInput) total += e.value; })
            .observe({type: "layout-shift", buffered: true});
        setTimeout(() => resolve(total), 500);
    })""")
    assert shift < 0.05, shift
    report_button(phone).click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Where to report")
