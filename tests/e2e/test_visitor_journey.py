"""A visitor reads the site, finds an article by topic and by search, and subscribes to the newsletter."""

import re

from playwright.sync_api import expect

from portal.demo.pages import ARTICLES
from tests.e2e.conftest import email_text, links_in

FIRST_ARTICLE = ARTICLES[0]["title"]  # "Notice and takedown: what makes removal fast", about takedown


def test_visitor_reads_filters_searches_and_subscribes(site, page):
    site.home(page)
    expect(page).to_have_title(re.compile("Hotline Network"))
    # Headline statistics on the home page.
    figures = page.get_by_role("region", name="The network in figures")
    expect(figures).to_be_visible()
    expect(figures.locator(".stat__value").first).to_have_text(re.compile(r"\d"))

    # A best-practice article, reached from the home page's latest list.
    latest = page.get_by_role("region", name="Latest best practice")
    link = latest.get_by_role("link").first
    title = link.inner_text().strip()
    article = next(a for a in ARTICLES if a["title"] == title)
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_role("main")).to_contain_text(article["author_organisation"])

    # The article index, filtered by a topic.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Best practices").click()
    expect(page.locator("#filter-state")).to_contain_text("Showing all")
    page.get_by_label("Topic").select_option(label="Sextortion")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#filter-state")).to_contain_text("about Sextortion")
    listing = page.get_by_role("main")
    sextortion_titles = [a["title"] for a in ARTICLES if "sextortion" in a["topics"]]
    other_titles = [a["title"] for a in ARTICLES if "sextortion" not in a["topics"]]
    for title in sextortion_titles:
        expect(listing.get_by_role("link", name=title)).to_be_visible()
    for title in other_titles:
        expect(listing.get_by_role("link", name=title)).to_have_count(0)

    # Search from the header.
    page.get_by_role("search").first.get_by_label("Search the portal").fill("takedown")
    page.get_by_role("search").first.get_by_role("button", name="Search").click()
    expect(page.get_by_role("main").get_by_role("status")).to_contain_text(re.compile(r"\d+ results? for “takedown”"))
    expect(page.get_by_role("main").get_by_role("link", name=FIRST_ARTICLE).first).to_be_visible()

    # Subscribe: the footer's short form leads to the full form with the address kept.
    address = "visitor@example.org"
    page.get_by_label("Email address").first.fill(address)
    page.locator(".site-footer").get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Subscribe to the newsletter")
    form = page.locator("form.nl-form")
    expect(form.get_by_role("textbox", name="Email address")).to_have_value(address)
    form.get_by_label("Prevention").check()
    form.get_by_role("checkbox", name=re.compile("I want to receive")).check()
    form.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    expect(page.get_by_role("status")).to_contain_text(address)

    # The confirmation email reaches the SMTP sink; its link opens a page whose button confirms.
    message = site.wait_for_email(address, "onfirm")
    confirm_links = [link for link in links_in(email_text(message)) if "/confirm/" in link]
    assert confirm_links, email_text(message)
    page.goto(confirm_links[0])
    expect(page.get_by_role("main")).to_contain_text(address)
    page.get_by_role("button", name="Yes, confirm my subscription").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Subscription confirmed")
    expect(page.get_by_role("status")).to_contain_text(address)
    site.wait_for_email(address, "elcome")
