"""A subscriber changes their preferences, then leaves with the one-click link from an email they received."""

import re

from playwright.sync_api import expect

from newsletter.models import Subscriber
from tests.e2e.conftest import email_text, links_in

ADDRESS = "reader@example.org"


def subscribe_and_confirm(page, site, address: str) -> str:
    """Subscribe through the full form, confirm from the email; return the welcome email's text."""
    site.home(page)
    page.get_by_role("contentinfo").get_by_role("link", name=re.compile("Choose topics")).click()
    form = page.locator("form.nl-form")
    form.get_by_role("textbox", name="Email address").fill(address)
    form.get_by_role("checkbox", name=re.compile("I want to receive")).check()
    form.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    confirmation = email_text(site.wait_for_email(address, "onfirm"))
    page.goto(next(link for link in links_in(confirmation) if "/confirm/" in link))
    # Opening the link only asks (a mail scanner fetching it subscribes nobody); the button confirms.
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your subscription")
    assert Subscriber.objects.get(email=address).status == "pending"
    page.get_by_role("button", name="Yes, confirm my subscription").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Subscription confirmed")
    return email_text(site.wait_for_email(address, "elcome"))


def test_subscriber_uses_preference_centre_and_one_click_unsubscribe(site, page):
    welcome = subscribe_and_confirm(page, site, ADDRESS)

    # The preference centre, from the link on the confirmation page.
    page.get_by_role("link", name=re.compile("Choose topics, frequency and language")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Newsletter preferences")
    expect(page.get_by_role("main")).to_contain_text(f"For {ADDRESS}: subscribed")
    page.get_by_role("checkbox", name="Sextortion").check()
    page.get_by_role("checkbox", name="Victim support").check()
    page.get_by_role("radio", name=re.compile("digest", re.I)).check()
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_role("status")).to_contain_text("Your preferences are saved.")
    expect(page.get_by_role("checkbox", name="Sextortion")).to_be_checked()
    expect(page.get_by_role("radio", name=re.compile("digest", re.I))).to_be_checked()
    subscriber = Subscriber.objects.get(email=ADDRESS)
    assert {topic.slug for topic in subscriber.topics.all()} >= {"sextortion", "victim-support"}

    # The one-click unsubscribe link from the welcome email.
    unsubscribe = next(link for link in links_in(welcome) if "/unsubscribe/" in link)
    page.goto(unsubscribe)
    expect(page.get_by_role("main")).to_contain_text(f"Stop sending the newsletter to {ADDRESS}?")
    page.get_by_role("main").get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")
    expect(page.get_by_role("status")).to_contain_text(f"{ADDRESS} will not receive the newsletter any more")
    subscriber.refresh_from_db()
    assert subscriber.status == "unsubscribed"

    # The unsubscribe page carries no other link: the preference centre's link comes by email, on request.
    expect(page.get_by_role("link", name="newsletter preferences")).to_have_count(0)
    page.get_by_role("button", name="Email me a link to my preferences").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    preferences_email = email_text(site.wait_for_email(ADDRESS, "preferences"))
    page.goto(next(link for link in links_in(preferences_email) if "/preferences/" in link))
    # Back in the preference centre the address shows as not subscribed, with a way back in.
    expect(page.get_by_role("main")).to_contain_text(f"For {ADDRESS}: not subscribed")
    expect(page.get_by_role("button", name="Subscribe again")).to_be_visible()
