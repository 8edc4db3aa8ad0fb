"""The demo's directory: a dozen countries, two languages where that fits, a neighbour and an international
channel for countries without a hotline, the page in every language whose home is translated."""

import io

from django.core.management import call_command

import pytest
from bs4 import BeautifulSoup

from portal.hotlines.models import Hotline, HotlineDirectoryPage

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_a_realistic_fictional_directory(client):
    call_command("seed_demo", stdout=io.StringIO())
    hotlines = list(Hotline.objects.active())
    countries = {code for hotline in hotlines for code in hotline.country_codes}
    assert len(countries) >= 12
    assert all(".example" in (h.report_url + h.email) for h in hotlines)  # reserved domains only
    assert all(h.report_url.startswith("https://") for h in hotlines)
    assert sum(len(h.languages) >= 2 for h in hotlines) >= 10
    assert any(h.international for h in hotlines)
    assert "LU" not in countries and any("LU" in [c.code for c in h.fallback_for] for h in hotlines)

    languages = set(HotlineDirectoryPage.objects.live().values_list("locale__language_code", flat=True))
    assert {"en", "fr", "de"} <= languages
    response = client.get("/fr/where-to-report/?country=LU")
    assert response.status_code == 200
    page = BeautifulSoup(response.content, "html.parser")
    assert page.select_one("html")["lang"] == "fr"
    assert page.select("#results a[data-report-link]")

    call_command("seed_demo", stdout=io.StringIO())  # a second run adds nothing
    assert Hotline.objects.count() == len(Hotline.objects.all()) == len(hotlines)
