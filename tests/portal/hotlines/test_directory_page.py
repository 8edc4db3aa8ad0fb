"""The "Where to report" page: a country's hotlines with their report links, the fallback, filters, the
browser's country, bad input, the map, the admin, the cache."""

import re

from django.test import Client

from wagtail.models import ModelLogEntry

import pytest
from bs4 import BeautifulSoup

from portal.hotlines.models import Hotline
from tests.factories import UserFactory
from tests.portal.hotlines.factories import HotlineFactory

pytestmark = pytest.mark.django_db


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.content, "html.parser")


def report_links(response) -> list[str]:
    return [a["href"] for a in soup(response).select("#results a[data-report-link]")]


def test_a_country_shows_its_hotlines_report_links(client, directory, hotlines):
    response = client.get(directory.url, {"country": "FR"})
    assert response.status_code == 200
    assert report_links(response) == ["https://report.ligne-claire.example/", "https://report.signal-jeunesse.example/"]
    text = soup(response).select_one("#results").get_text(" ", strip=True)
    assert "Where to report in France" in text
    assert "Closed Hotline" not in response.content.decode()


def test_country_codes_in_either_case(client, directory, hotlines):
    assert report_links(client.get(directory.url, {"country": "fr"}))[0] == "https://report.ligne-claire.example/"


def test_a_country_without_a_hotline_gets_the_recommended_channel(client, directory, hotlines):
    response = client.get(directory.url, {"country": "LU"})
    results = soup(response).select_one("#results")
    assert "Luxembourg has no member hotline yet" in results.get_text(" ", strip=True)
    assert report_links(response) == ["https://report.meldpunt-lage-landen.example/"]
    assert report_links(client.get(directory.url, {"country": "GR"})) == ["https://report.international-channel.example/"]


def test_filters_by_what_and_language(client, directory, hotlines):
    response = client.get(directory.url, {"country": "FR", "accepts": "grooming"})
    assert report_links(response) == ["https://report.signal-jeunesse.example/"]
    response = client.get(directory.url, {"country": "FR", "language": "en"})
    assert report_links(response) == ["https://report.ligne-claire.example/"]


def test_the_browsers_region_preselects_a_country_and_caches_are_told(client, directory, hotlines):
    response = client.get(directory.url, HTTP_ACCEPT_LANGUAGE="fr-BE,fr;q=0.8")
    assert report_links(response) == ["https://report.meldpunt-lage-landen.example/"]
    assert "Accept-Language" in response["Vary"]
    assert soup(response).select_one("#id_country option[selected]")["value"] == "BE"
    # A country in the address wins and the answer no longer depends on the browser.
    chosen = client.get(directory.url, {"country": "FR"}, HTTP_ACCEPT_LANGUAGE="fr-BE")
    assert report_links(chosen)[0] == "https://report.ligne-claire.example/"
    assert "Accept-Language" not in chosen.get("Vary", "")


def test_without_a_country_the_whole_directory_and_the_country_list(client, directory, hotlines):
    response = client.get(directory.url)
    page = soup(response)
    assert page.select_one("#results") is None
    links = {a.get_text(strip=True): a["href"] for a in page.select(".country-list a")}
    assert links == {"Belgium": f"{directory.url}?country=BE#results", "France": f"{directory.url}?country=FR#results"}
    assert len(page.select(".directory__all a[data-report-link]")) == 3


def test_bad_input_is_a_400_naming_the_field_and_keeps_the_rest(client, directory, hotlines):
    response = client.get(directory.url, {"country": "ZZ", "language": "en"})
    assert response.status_code == 400
    errors = soup(response).select_one("#directory-errors").get_text(" ", strip=True)
    assert "Your country" in errors
    assert soup(response).select_one("#id_country")["aria-invalid"] == "true"
    assert soup(response).select_one("#id_language option[selected]")["value"] == "en"
    hostile = client.get(directory.url, {"country": "<script>\x00", "accepts": "' OR 1=1"})
    assert hostile.status_code == 400 and b"<script>" not in hostile.content


def test_the_map_has_the_same_countries_as_the_list(client, directory, hotlines):
    page = soup(client.get(directory.url, {"country": "FR"}))
    map_links = {a["aria-label"]: a["href"] for a in page.select(".hotline-map a")}
    assert map_links == {"Belgium: 1 hotline": f"{directory.url}?country=BE#results",
                         "France: 2 hotlines": f"{directory.url}?country=FR#results"}
    assert page.select_one(".hotline-map rect.hotline-map__tile--selected") is not None


def test_the_map_shows_countries_beyond_its_grid(client, directory, hotlines):
    HotlineFactory(name="Great Lakes", countries=["CA"])
    page = soup(client.get(directory.url))
    assert "Canada: 1 hotline" in {a["aria-label"] for a in page.select(".hotline-map a")}


def test_the_page_reads_the_directory_in_a_bounded_number_of_queries(client, directory, hotlines,
                                                                    django_assert_max_num_queries):
    client.get(directory.url, {"country": "FR"})
    for number in range(30):
        HotlineFactory(name=f"Extra {number}", countries=["DE"])
    with django_assert_max_num_queries(20):
        assert client.get(directory.url, {"country": "DE"}).status_code == 200


def test_a_hotline_change_reaches_cached_pages(settings, directory, hotlines, committed):
    from django.core.cache import cache

    from portal.core import cache as page_cache

    settings.PAGE_CACHE_ENABLED = True
    cache.clear()
    page_cache._local.clear()
    url = f"{directory.url}?country=FR"
    assert Client().get(url)["X-Page-Cache"] == "miss"
    assert Client().get(url)["X-Page-Cache"] == "hit"
    hotline = hotlines["fr"]
    hotline.report_url = "https://new-form.ligne-claire.example/"
    committed(hotline.save)
    page_cache._local.clear()
    fresh = Client().get(url)
    assert "https://new-form.ligne-claire.example/" in fresh.content.decode()
    cache.clear()


def test_editors_use_checkboxes_and_every_change_is_logged(client, hotlines):
    editor = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(editor)
    form = client.get("/admin/snippets/hotlines/hotline/add/").content.decode()
    assert re.search(r'type="checkbox" name="languages" value="fr"', form)
    assert re.search(r'type="checkbox" name="accepts" value="grooming"', form)
    response = client.post("/admin/snippets/hotlines/hotline/add/", {
        "name": "Nieuwe Meldlijn", "countries": ["NL"], "report_url": "https://report.nieuwe.example/",
        "languages": ["nl", "en"], "accepts": ["csam", "sextortion"], "anonymous": "on", "active": "on",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    hotline = Hotline.objects.get(name="Nieuwe Meldlijn")
    assert hotline.languages == ["nl", "en"] and hotline.accepts == ["csam", "sextortion"]
    entry = ModelLogEntry.objects.get(object_id=str(hotline.pk), action="wagtail.create")
    assert entry.user == editor


def test_the_report_buttons_lead_to_the_directory(client, directory):
    page = soup(client.get("/en/"))
    assert {a["href"] for a in page.select("a.button--report")} == {directory.url}
