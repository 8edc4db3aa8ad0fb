"""Accessibility in Chromium: axe-core on the main public pages and forms, and keyboard-only use."""

import json
import re
from pathlib import Path

from django.urls import reverse

from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, PROJECT_ROOT, fresh_page

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
BLOCKING = {"serious", "critical"}
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",
                                                     "best-practice"]},
               "resultTypes": ["violations"]}


def axe_violations(page) -> list[dict]:
    """Run axe-core in the page; the serious and critical violations, each with a few offending nodes."""
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    return [
        {"rule": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [node["target"] for node in v["nodes"][:5]]}
        for v in results["violations"] if v["impact"] in BLOCKING
    ]


def check(page, name: str, found: dict) -> None:
    violations = axe_violations(page)
    if violations:
        found[f"{name} ({page.url})"] = violations


def test_vendored_axe_is_the_pinned_version():
    lock = json.loads((PROJECT_ROOT / "package-lock.json").read_text())
    version = lock["packages"]["node_modules/axe-core"]["version"]
    assert AXE.read_text()[:100].startswith(f"/*! axe v{version}"), "run make vendor-axe"
    assert (AXE.parent / "LICENSE").exists()


def test_main_pages_and_forms_have_no_serious_axe_violations(site, new_context):
    found: dict = {}
    for viewport in ({"width": 1280, "height": 800}, PHONE):
        page = fresh_page(new_context, viewport=viewport, bypass_csp=True)
        site.home(page)
        check(page, "home", found)
        menu = page.get_by_role("navigation", name="Main")
        toggle = menu.get_by_role("button", name="Menu")
        for section in ["Best practices", "Conference notes", "Where to report", "Network statistics"]:
            if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
                toggle.click()
            menu.get_by_role("link", name=section).click()
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            check(page, section, found)
            if section in {"Best practices", "Conference notes"}:
                page.get_by_role("main").locator(".card__link").first.click()
                check(page, f"{section}: first item", found)
        page.goto(site.absolute(reverse("search")) + "?q=takedown")
        check(page, "search results", found)
        page.get_by_role("contentinfo").get_by_role("link", name=re.compile("Choose topics")).click()
        check(page, "subscribe form", found)
        page.locator("form.nl-form").get_by_role("button", name="Subscribe").click()  # empty: errors shown
        expect(page.locator(".nl-error").first).to_be_visible()
        check(page, "subscribe form with errors", found)
        page.get_by_role("link", name="Member sign-in").click()
        check(page, "member sign-in", found)
        page.close()
    assert not found, "axe-core found serious or critical violations:\n" + json.dumps(found, indent=1)


def focus_outline(page) -> str:
    """The focused element's visible focus indicator (outline or box shadow), '' when it has none."""
    return page.evaluate("""() => {
        const s = getComputedStyle(document.activeElement);
        if (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) return 'outline ' + s.outlineStyle;
        return s.boxShadow !== 'none' ? 'shadow' : '';
    }""")


def tab_to(page, predicate_js: str, limit: int = 60) -> None:
    """Press Tab until the focused element matches ``predicate_js`` (a JS expression on ``el``)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const el = document.activeElement; return !!({predicate_js}); }}"):
            assert focus_outline(page), "the focused element has no visible focus indicator"
            return
    raise AssertionError(f"Tab never reached {predicate_js} within {limit} presses")


def test_subscribe_form_works_with_the_keyboard_alone(site, page):
    site.home(page)
    page.get_by_role("contentinfo").get_by_role("link", name=re.compile("Choose topics")).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Subscribe to the newsletter")
    # The skip link comes first and moves focus to the main content.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Skip to main content"
    page.keyboard.press("Enter")
    tab_to(page, "el.id === 'signup-email'")
    page.keyboard.type("keyboard@example.org")
    tab_to(page, "el.type === 'checkbox' && el.labels[0].textContent.trim() === 'Prevention'")
    page.keyboard.press("Space")
    tab_to(page, "el.id === 'signup-consent'")
    page.keyboard.press("Space")
    tab_to(page, "el.tagName === 'BUTTON' && el.textContent.trim() === 'Subscribe' && el.closest('.nl-form')")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    site.wait_for_email("keyboard@example.org", "onfirm")


def test_main_menu_works_with_the_keyboard_alone(site, new_context):
    # Desktop: the menu links are in the tab order.
    page = fresh_page(new_context)
    site.home(page)
    tab_to(page, "el.closest('nav.main-nav') && el.textContent.trim() === 'Best practices'")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Best practices")

    # Phone: the Menu button opens the menu from the keyboard, and its state is announced.
    phone = fresh_page(new_context, viewport=PHONE)
    site.home(phone)
    toggle = phone.get_by_role("button", name="Menu")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(phone.get_by_role("navigation", name="Main").get_by_role("link", name="Conference notes")).to_be_hidden()
    tab_to(phone, "el.matches('[data-main-nav-toggle]')")
    phone.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    tab_to(phone, "el.closest('nav.main-nav') && el.textContent.trim() === 'Conference notes'")
    phone.keyboard.press("Enter")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Conference notes")


def test_confirmation_and_preference_pages_pass_axe_and_confirm_with_the_keyboard(site, page):
    """The page an emailed confirmation link opens (a button, not a click-to-subscribe) and the preference centre
    with its click-history choice: no serious axe violations, and the confirmation done with the keyboard alone."""
    from newsletter.models import Subscriber
    from newsletter.services import tokens
    from tests.newsletter.factories import SubscriberFactory

    pending = SubscriberFactory(email="keys@example.org", status=Subscriber.Status.PENDING)
    found: dict = {}
    page.goto(tokens.confirm_url(pending))  # SITE_URL is the live server here
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your subscription")
    check(page, "confirmation page", found)
    tab_to(page, "el.tagName === 'BUTTON' && el.textContent.trim() === 'Yes, confirm my subscription'")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Subscription confirmed")
    check(page, "confirmed page", found)
    page.get_by_role("link", name=re.compile("Choose topics, frequency and language")).click()
    expect(page.get_by_role("checkbox", name=re.compile("Keep a history of the links I click"))).not_to_be_checked()
    check(page, "preference centre", found)
    assert not found, "axe-core found serious or critical violations:\n" + json.dumps(found, indent=1)
    pending.refresh_from_db()
    assert pending.status == Subscriber.Status.SUBSCRIBED
