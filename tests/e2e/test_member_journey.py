"""A member of one sector sees their dashboard and their sector's page; others do not."""

import re

from django.urls import reverse

from playwright.sync_api import expect

from portal.demo.members import DEMO_PASSWORD
from portal.pages.models import ArticlePage
from tests.e2e.conftest import fresh_page

SECRET = "held back 3% of notices for an average of 6 days"  # only in the law-enforcement article's body
TITLE = "Deconfliction with police: operational notes"


def sign_in(page, site, username: str) -> None:
    site.home(page)
    page.get_by_role("link", name="Member sign-in").click()
    page.get_by_label("Email or username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Sign in").click()
    page.get_by_role("banner").get_by_role("link", name="Members\u2019 area").click()


def test_sector_member_sees_dashboard_and_sector_page_others_do_not(site, page, new_context):
    article_url = site.absolute(ArticlePage.objects.get(title=TITLE).get_url())

    # A law-enforcement member: dashboard, then the sector-only article from it.
    sign_in(page, site, "demo-law-enforcement")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Demo")
    organisation = page.get_by_role("region", name="Your organisation")
    expect(organisation).to_contain_text("National Police Cybercrime Unit")
    expect(organisation).to_contain_text("Law enforcement")
    page.get_by_role("region", name="Restricted resources").get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.get_by_role("main")).to_contain_text(SECRET)

    # A hotline member signs in too, but neither the dashboard nor the article shows them that page.
    hotline = fresh_page(new_context)
    sign_in(hotline, site, "demo-hotline")
    expect(hotline.get_by_role("heading", level=1)).to_have_text("Welcome, Demo")
    expect(hotline.get_by_role("region", name="Your organisation")).to_contain_text("Northern Lights Hotline")
    expect(hotline.get_by_role("main")).not_to_contain_text(TITLE)
    hotline.goto(article_url)
    expect(hotline.get_by_role("main")).not_to_contain_text(SECRET)
    expect(hotline.get_by_role("heading", level=1)).not_to_have_text(TITLE)

    # An anonymous visitor is asked to sign in and sees nothing of it; the dashboard also asks for sign-in.
    anonymous = fresh_page(new_context)
    anonymous.goto(article_url)
    expect(anonymous.get_by_role("main").get_by_role("button", name="Sign in")).to_be_visible()
    expect(anonymous.get_by_role("main")).not_to_contain_text(SECRET)
    anonymous.goto(site.absolute(reverse("members:dashboard")))
    expect(anonymous.get_by_role("main").get_by_role("button", name="Sign in")).to_be_visible()
    expect(anonymous.get_by_role("main")).not_to_contain_text("Your organisation")
    # Search does not give it away either.
    anonymous.get_by_role("search").first.get_by_label("Search the portal").fill("deconfliction")
    anonymous.get_by_role("search").first.get_by_label("Search the portal").press("Enter")
    expect(anonymous.get_by_role("main").get_by_role("status")).to_be_visible()
    expect(anonymous.get_by_role("main")).not_to_contain_text(re.compile("operational notes"))
