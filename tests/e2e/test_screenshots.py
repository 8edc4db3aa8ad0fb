"""Full-page screenshots of the main templates at phone and desktop widths (test artifacts, git-ignored).

They land in ``var/screenshots/`` (or ``E2E_SCREENSHOT_DIR``) as ``<template>-<width>.png``; the README shows
two of them, compressed copies kept in ``docs/screenshots/``. Each must be a real, non-blank picture.
"""

import re
import struct

from django.urls import reverse

from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, fresh_page, screenshot


def png_size(path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def test_full_page_screenshots_at_phone_and_desktop_widths(site, new_context):
    shots = []
    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = fresh_page(new_context, viewport=viewport, device_scale_factor=1)
        site.home(page)
        shots.append(screenshot(page, f"home-{label}"))
        nav = page.get_by_role("navigation", name="Main")
        toggle = nav.get_by_role("button", name="Menu")
        for name, link in (("article-index", "Best practices"), ("statistics", "Network statistics"),
                           ("directory", "Where to report"), ("conference-index", "Conference notes")):
            if toggle.is_visible():
                toggle.click()
            nav.get_by_role("link", name=link).click()
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            shots.append(screenshot(page, f"{name}-{label}"))
            if name == "article-index":
                page.get_by_role("main").locator(".card__link").first.click()
                shots.append(screenshot(page, f"article-{label}"))
        page.goto(site.absolute(reverse("search")) + "?q=prevention")
        shots.append(screenshot(page, f"search-{label}"))
        page.get_by_role("contentinfo").get_by_role("link", name=re.compile("Choose topics")).click()
        shots.append(screenshot(page, f"subscribe-{label}"))
        page.get_by_role("link", name="Member sign-in").click()
        shots.append(screenshot(page, f"sign-in-{label}"))
        page.close()

    for path in shots:
        width, height = png_size(path)
        expected = PHONE["width"] if path.stem.endswith("-phone") else DESKTOP["width"]
        assert width == expected, f"{path.name} is {width} px wide"
        assert height >= (PHONE if expected == PHONE["width"] else DESKTOP)["height"], f"{path.name} is not full-page"
        assert path.stat().st_size > 10_000, f"{path.name} looks blank"
