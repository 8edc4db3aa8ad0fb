"""With JavaScript turned off, the subscribe flow and the statistics page still work."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import email_text, fresh_page, links_in


def test_subscribe_flow_without_javascript(site, new_context):
    page = fresh_page(new_context, java_script_enabled=False)
    site.home(page)
    # The footer's short form posts the address; the full form asks for consent.
    page.get_by_role("contentinfo").get_by_label("Email address").fill("nojs@example.org")
    page.get_by_role("contentinfo").get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Subscribe to the newsletter")
    form = page.locator("form.nl-form")
    # Submitting without consent is refused by the server, with the error next to the box.
    form.get_by_role("button", name="Subscribe").click()
    expect(page.locator("#signup-consent-error")).to_be_visible()
    expect(form.get_by_role("textbox", name="Email address")).to_have_value("nojs@example.org")
    form.get_by_role("checkbox", name="Victim support").check()
    form.get_by_role("checkbox", name=re.compile("I want to receive")).check()
    form.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    message = site.wait_for_email("nojs@example.org", "onfirm")
    page.goto(next(link for link in links_in(email_text(message)) if "/confirm/" in link))
    # The confirmation button is a plain form post: it works with scripts off.
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your subscription")
    page.get_by_role("button", name="Yes, confirm my subscription").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Subscription confirmed")


def test_statistics_page_without_javascript(site, new_context):
    page = fresh_page(new_context, java_script_enabled=False)
    site.home(page)
    # Without scripts the main menu is a plain list of links (no Menu button), even on a phone.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Network statistics").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Network statistics")
    main = page.get_by_role("main")
    expect(main.get_by_role("heading", name="Key figures")).to_be_visible()
    expect(main.get_by_role("heading", name="Reports received")).to_be_visible()
    # Charts are drawn on the server (SVG) with their figures in tables, so nothing needs a script.
    expect(main.locator("svg").first).to_be_visible()
    table = main.get_by_role("table").first
    expect(table).to_be_visible()
    expect(table.locator("td").first).to_have_text(re.compile(r"\d"))
    expect(main.get_by_role("link", name=re.compile("Download all figures"))).to_be_visible()


def test_menu_is_plain_links_without_javascript_on_a_phone(site, new_context):
    page = fresh_page(new_context, java_script_enabled=False, viewport={"width": 390, "height": 844})
    site.home(page)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("button", name="Menu")).to_be_hidden()
    nav.get_by_role("link", name="Best practices").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Best practices")
