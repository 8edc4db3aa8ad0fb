"""What a newcomer saw that did not look finished (issue 20), checked on the demo site as a visitor sees it:
one headline figure with its year, no internal type names, a notice on untranslated pages, the newsletter archive
linked, one search box per page, e-mail addresses as links, a quiet seed_demo."""

import io
import json
import logging
import re

from django.core.management import call_command

import pytest
from bs4 import BeautifulSoup

pytestmark = pytest.mark.django_db


def soup(client, url) -> BeautifulSoup:
    response = client.get(url)
    assert response.status_code == 200, url
    return BeautifulSoup(response.content, "html.parser")


def test_the_demo_reads_as_finished(client, caplog):
    out = io.StringIO()
    with caplog.at_level(logging.INFO):
        call_command("seed_demo", stdout=out)
    # 14. seed_demo prints its useful lines without hundreds of per-save INFO lines around them.
    chatty = [record for record in caplog.records if record.name.split(".")[0] in {"wagtail", "django_tasks", "celery"}]
    assert not chatty, chatty[:3]
    assert "Demo content is ready." in out.getvalue()
    # 14. Pages are printed at the address a reader opens, never at their internal tree path (/home/...); and the
    # emails the demo sends through eager tasks log no kombu "No hostname was supplied" warning.
    printed = out.getvalue()
    assert "/home/" not in printed
    assert "'Members' updates' at /en/members-updates/ (members only)" in printed.replace('"', "'")
    assert not [record for record in caplog.records if "hostname" in record.getMessage().lower()]

    home = soup(client, "/en/")
    text = home.get_text(" ", strip=True)
    # 1. One headline figure (the dataset's latest year) wherever it appears, with its year.
    assert "93%" in text and "91%" not in text and "2015" in text
    about = soup(client, "/en/about/").get_text(" ", strip=True)
    assert "93%" in about and "2015" in about and "91%" not in about
    statistics = soup(client, "/en/network-statistics/")
    key_figures = statistics.find(string=re.compile("Key figures")).find_parent("section") or statistics
    assert "93.0%" in key_figures.get_text(" ", strip=True)

    # 3. No internal page-type names on cards.
    labels = {p.get_text(strip=True) for p in home.select(".card__type")}
    assert not labels & {"Standard page", "Best practice index", "Conference notes index"}

    # 4. A page not translated yet says so, and its content carries its own language.
    spanish = soup(client, "/es/")
    assert spanish.select_one("main")["lang"] == "en"
    assert "aún no está traducida al español" in spanish.select_one(".translation-notice").get_text().lower()
    assert not soup(client, "/fr/").select_one(".translation-notice")  # the French home is translated

    # 8. The newsletter archive is linked from every page (the footer).
    assert any("Newsletter archive" in a.get_text() for a in home.select("footer a"))

    # 5, 12. One search box on the search page; the results summary is a live region around its heading.
    search = soup(client, "/en/search/?q=takedown")
    assert len(search.select('input[type="search"]')) == 1
    heading = search.select_one("#results-heading")
    assert heading.get("role") is None and heading.parent.get("role") == "status"

    # 11. Every Atom entry has an author (conference notes included), and an article's JSON-LD its share image.
    atom = client.get("/en/feeds/latest/atom/").content.decode()
    assert atom.count("<author>") >= atom.count("<entry>") + 1  # the feed's own author, and one per entry
    from portal.pages.models import ArticlePage

    article = ArticlePage.objects.live().filter(locale__language_code="en", social_image__isnull=False).first()
    data = json.loads(soup(client, article.url).find("script", type="application/ld+json").string)
    assert data["image"].startswith("http") and "fill-1200x630" in data["image"]

    # 5. Newsletter issues have their own search facet, and their result cards a summary.
    from newsletter.models import NewsletterIssue

    issue = NewsletterIssue.objects.live().filter(locale__language_code="en").first()
    word = max(issue.title.split(), key=len)
    found = soup(client, f"/en/search/?q={word}")
    assert any(a.get_text(strip=True).startswith("Newsletter issues (") for a in found.select(".search-types a"))
    cards = [card for card in found.select(".search-results .card")
             if card.select_one(".card__title").get_text(strip=True) == issue.title]
    assert cards and all(card.select_one(".card__summary").get_text(strip=True) for card in cards)

    # 13. E-mail addresses on the contact page are links.
    contact = soup(client, "/en/contact/")
    assert contact.select_one('a[href="mailto:secretariat@example.org"]')


def test_favicon_ico_leads_to_the_sites_icon(client):
    """13. Browsers and the admin's pages ask for /favicon.ico: no 404."""
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"].endswith(".svg")
