"""sitemap.xml lists live public pages with absolute URLs; robots.txt points crawlers at it."""

import xml.etree.ElementTree as ET

from django.test import override_settings

from wagtail.models import PageViewRestriction

import pytest

from tests.factories import ArticlePageFactory, StandardPageFactory, UserFactory, paragraph

pytestmark = pytest.mark.django_db

NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def sitemap_entries(client) -> dict[str, str | None]:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    return {url.findtext(f"{NS}loc"): url.findtext(f"{NS}lastmod") for url in root.findall(f"{NS}url")}


def test_sitemap_lists_live_public_pages_with_absolute_urls_and_lastmod(client, home, article_index):
    article = ArticlePageFactory(parent=article_index, slug="takedown")
    article.save_revision().publish()

    entries = sitemap_entries(client)

    assert "http://testserver/en/" in entries
    assert "http://testserver/en/best-practices/" in entries
    assert entries["http://testserver/en/best-practices/takedown/"] is not None  # lastmod from the publish


def test_sitemap_leaves_out_restricted_subtrees_and_drafts_even_for_members(client, home):
    members_area = StandardPageFactory(parent=home, slug="members-area")
    StandardPageFactory(parent=members_area, slug="inner-briefing", body=paragraph("secret"))
    PageViewRestriction.objects.create(page=members_area, restriction_type=PageViewRestriction.LOGIN)
    draft = StandardPageFactory(parent=home, slug="draft-page")
    draft.unpublish()
    StandardPageFactory(parent=home, slug="about")

    client.force_login(UserFactory())
    locations = set(sitemap_entries(client))

    assert "http://testserver/en/about/" in locations
    assert not any("members-area" in loc or "inner-briefing" in loc or "draft-page" in loc for loc in locations)


@override_settings(SITE_URL="https://portal.example.org")
def test_sitemap_urls_use_site_url_whatever_the_host(client, home):
    StandardPageFactory(parent=home, slug="about")

    locations = set(sitemap_entries(client))

    assert "https://portal.example.org/en/about/" in locations


@override_settings(SITE_URL="https://portal.example.org")
def test_robots_txt(client, db):
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    for path in (
        "/admin/",
        "/members/",
        "/newsletter/preferences/",
        "/newsletter/unsubscribe/",
        "/newsletter/confirm/",
        "/search/",
    ):
        assert f"Disallow: {path}" in lines
    assert "Disallow: /" not in lines
    assert "Sitemap: https://portal.example.org/sitemap.xml" in lines


def test_sitemap_is_publicly_cacheable(client, home):
    assert "public" in client.get("/sitemap.xml")["Cache-Control"]


def sitemap_urls(client, path) -> dict[str, dict[str, str]]:
    """The <url> entries of one sitemap file: location -> {hreflang: href}."""
    response = client.get(path)
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    assert root.tag == f"{NS}urlset"
    return {url.findtext(f"{NS}loc"): {link.get("hreflang"): link.get("href")
                                       for link in url.iter("{http://www.w3.org/1999/xhtml}link")}
            for url in root.findall(f"{NS}url")}


def test_more_pages_than_a_file_holds_make_sitemap_xml_an_index_of_files_that_together_list_them_all(
        client, home, article_index, settings):
    from tests.factories import translate

    # Through the settings fixture only: stacked on an @override_settings, its restore would leave SITE_URL changed
    # for every later test.
    settings.SITE_URL = "https://portal.example.org"

    translate(home, "fr", title="Réseau")
    fr_index = translate(article_index, "fr", title="Bonnes pratiques", slug="bonnes-pratiques")
    for number in range(5):
        article = ArticlePageFactory(parent=article_index, slug=f"article-{number}")
        if number < 2:
            translate(article, "fr", slug=f"article-fr-{number}")
    members_area = StandardPageFactory(parent=home, slug="members-area")
    StandardPageFactory(parent=members_area, slug="inner-briefing")
    PageViewRestriction.objects.create(page=members_area, restriction_type=PageViewRestriction.LOGIN)
    settings.SITEMAP_PAGE_SIZE = 100
    everything = sitemap_urls(client, "/sitemap.xml")  # one file: no index yet

    settings.SITEMAP_PAGE_SIZE = 3
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and "public" in response["Cache-Control"]
    index = ET.fromstring(response.content)
    assert index.tag == f"{NS}sitemapindex"
    files = [entry.findtext(f"{NS}loc") for entry in index.findall(f"{NS}sitemap")]
    pages = -(-len(everything) // 3)
    assert files == [f"https://portal.example.org/sitemap.xml?p={page}" for page in range(1, pages + 1)]
    listed = {}
    for location in files:
        entries = sitemap_urls(client, location.removeprefix("https://portal.example.org"))
        assert 1 <= len(entries) <= 3
        assert not set(entries) & set(listed)  # no URL in two files
        listed |= entries
    assert listed == everything  # the same URLs with the same alternates
    assert len(listed) == 11  # home, index, 5 articles; in French home, index, 2 articles
    assert not any("members-area" in location or "inner-briefing" in location for location in listed)
    fr_article = "https://portal.example.org/fr/bonnes-pratiques/article-fr-0/"
    en_article = "https://portal.example.org/en/best-practices/article-0/"
    assert listed[fr_article] == {"en": en_article, "fr": fr_article, "x-default": en_article}
    assert fr_index.live
    assert client.get(f"/sitemap.xml?p={pages + 1}").status_code == 404
