"""`seed_demo` adds French and German translations of the home page, one article and the conference notes."""

import io

from django.core.management import call_command

from wagtail.models import Page

import pytest
from bs4 import BeautifulSoup

from portal.demo import translations
from portal.pages.models import ArticlePage, ConferenceNotesPage, HomePage


@pytest.mark.django_db
def test_demo_has_french_and_german_translations_linked_by_the_switcher(client):
    call_command("seed_demo", stdout=io.StringIO())
    for code, home_title in (("fr", "Réseau de hotlines"), ("de", "Hotline-Netzwerk")):
        home = HomePage.objects.get(locale__language_code=code)
        assert home.live and home.title == home_title
        assert ArticlePage.objects.filter(locale__language_code=code, live=True).count() == 1
        assert ConferenceNotesPage.objects.filter(locale__language_code=code, live=True).count() == 1
        response = client.get(f"/{code}/")
        assert response.status_code == 200
        assert BeautifulSoup(response.content, "html.parser").html["lang"] == code

    article = ArticlePage.objects.get(slug=translations.ARTICLE_SLUG)
    page = BeautifulSoup(client.get(article.url).content, "html.parser")
    links = {a["hreflang"]: a["href"] for a in page.select("nav.language-switcher a")}
    french = ArticlePage.objects.get(locale__language_code="fr")
    assert links["fr"] == french.url
    assert "Notification et retrait" in client.get(french.url).content.decode()
    conference = ConferenceNotesPage.objects.get(locale__language_code="de")
    assert "Den Haag" in client.get(conference.url).content.decode()

    pages = Page.objects.count()
    translations.seed(io.StringIO())  # a second run changes nothing
    assert Page.objects.count() == pages
