"""`manage.py seed_demo` builds a complete, browsable demo site and can be run again without changing it.

Seeding takes several seconds, so each test seeds once and checks a whole area of the demo.
"""

import io

from django.contrib.auth import get_user_model
from django.core.management import call_command

from wagtail.models import Page, Revision, Site

import pytest

from portal.core.privacy import Viewer, can_view
from portal.demo import pages as demo
from portal.demo.management.commands.seed_demo import (
    DEMO_STEPS,
    EDITOR_PASSWORD,
    EDITOR_USERNAME,
    step_installed,
)
from portal.pages.models import ArticlePage, ConferenceNotesPage, HomePage, StandardPage


def seed() -> str:
    output = io.StringIO()
    call_command("seed_demo", stdout=output)
    return output.getvalue()


@pytest.mark.django_db
def test_second_run_changes_nothing_and_prints_the_editor_login(client):
    first = seed()
    pages, revisions = Page.objects.count(), Revision.objects.count()
    assert pages >= 12

    second = seed()

    assert Page.objects.count() == pages
    assert Revision.objects.count() == revisions
    assert "created the home page" in first
    assert "created the home page" not in second
    for output in (first, second):
        assert "/admin/" in output
        assert f"Username: {EDITOR_USERNAME}" in output
        assert EDITOR_PASSWORD in output
    assert get_user_model().objects.get(username=EDITOR_USERNAME).is_superuser
    assert client.login(username=EDITOR_USERNAME, password=EDITOR_PASSWORD)
    assert client.get("/admin/").status_code == 200
    # The editor can read every page, members-only ones included.
    for page in Page.objects.filter(depth__gt=2).specific():
        assert client.get(page.url).status_code == 200, page.url


@pytest.mark.django_db
def test_demo_site_is_browsable(client):
    seed()
    home = HomePage.objects.get(locale__language_code="en")  # the demo also has French and German homes

    # The home page replaces Wagtail's welcome page as the default site's root and shows the headline figure.
    assert Site.objects.get(is_default_site=True).root_page_id == home.id
    # The only other top-level pages are the home page's translations (no leftover Wagtail welcome page).
    assert not Page.objects.filter(depth=2).exclude(translation_key=home.translation_key).exists()
    html = client.get("/en/").content.decode()
    assert "93%" in html and "91%" not in html  # one headline figure: the latest year's (issue 20, point 1)
    assert "within three days" in html

    # Every demo page is published; public ones render for anyone, members-only ones ask visitors to sign in.
    pages = list(Page.objects.filter(depth__gt=2).specific())
    assert len(pages) >= 10
    for page in pages:
        assert page.live, page.title
        expected = 200 if can_view(page, Viewer.anonymous()) else 302
        assert client.get(page.url).status_code == expected, page.url

    # Best-practice articles are substantial and classified by topic and sector.
    articles = ArticlePage.objects.live().filter(slug__in=[article["slug"] for article in demo.ARTICLES])
    assert articles.count() >= 4
    for article in articles:
        assert {"heading", "paragraph", "key_fact", "quote"} <= {block.block_type for block in article.body}
        assert article.topics.exists() and article.sectors.exists()
        assert article.author_organisation.startswith("Member")
        assert article.reading_time >= 2

    # Conference notes from The Hague, 2015.
    notes = ConferenceNotesPage.objects.get(locale__language_code="en")  # (French and German translations too)
    assert (notes.city, str(notes.country), notes.start_date.year) == ("The Hague", "NL", 2015)
    assert len(notes.sessions) == 3
    notes_html = client.get(notes.url).content.decode()
    assert "The Hague" in notes_html
    assert "sextortion" in notes_html.lower()

    # How to report: point to the national hotline, never handle the material, no invented web addresses.
    report = StandardPage.objects.get(slug="how-to-report")
    report_html = client.get(report.url).content.decode()
    assert "Do not download, forward" in report_html
    assert "national hotline" in report_html
    assert "http" not in "".join(str(block.value) for block in report.body)


def test_steps_that_are_not_installed_are_skipped():
    assert step_installed("portal.demo.pages")
    assert not step_installed("portal.does_not_exist.demo")
    assert not step_installed("no_such_package.demo")
    assert DEMO_STEPS[0] == "portal.demo.pages"
