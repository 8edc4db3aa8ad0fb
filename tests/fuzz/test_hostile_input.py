"""Hostile query strings against every public URL pattern: never a server error (issue 16, point 5).

The site below holds one of each page type (with a topic, a sector and a French translation), a statistics
page and dataset, a newsletter archive and issue, the hotline directory with two hotlines, a document and an
image, so the pages, index filters, search, feeds, sitemap, the APIs, CSV downloads and the newsletter and
members views all reach their database lookups. The URLs are every route of the URL configuration outside
the admin, filled with the ids and slugs of that content, plus every live page: a new public route is fuzzed
without anyone listing it here.

Each request goes through the whole middleware stack with the page cache, fragments and memos on (as in
production) and the test client re-raises any exception a view lets escape. The oracle is written from what the
generator put in, not by parsing again: a NUL or other control character, bytes that are not UTF-8, a value over
``REQUEST_GUARD_MAX_VALUE_LENGTH`` or a query string over ``REQUEST_GUARD_MAX_QUERY_LENGTH`` must get a 400;
anything else may get any answer but a 5xx.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, quote_from_bytes

from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver

from wagtail.documents import get_document_model
from wagtail.models import Collection, Page

import pytest
import wagtail_factories
from hypothesis import event, given, settings
from hypothesis import strategies as st

from tests.factories import (
    ArticlePageFactory,
    ConferenceNotesPageFactory,
    SectorFactory,
    StandardPageFactory,
    TopicFactory,
    translate,
)
from tests.newsletter.issue_factories import NewsletterIndexPageFactory, make_issue
from tests.portal.hotlines.factories import HotlineDirectoryPageFactory, HotlineFactory
from tests.portal.stats.conftest import add_observation, figures, make_dataset, make_stats_page

MAX_VALUE = 1000  # the settings' defaults, set explicitly by the fixture
MAX_QUERY = 4096

# Parameters the views read (pages, index filters, search, Wagtail's API, the statistics API, newsletter and
# members views) and tracking parameters the page cache ignores.
KNOWN_NAMES = [
    "q", "type", "page", "topic", "sector", "search", "search_operator", "locale", "translation_of", "fields",
    "order", "limit", "offset", "child_of", "ancestor_of", "descendant_of", "site", "html_path", "id", "title",
    "slug", "show_in_menus", "format", "year", "quarter", "country", "organisation", "period", "measure",
    "granularity", "per_page", "next", "email", "token", "accepts", "language", "fallback", "utm_source",
    "utm_campaign", "mc_cid", "fbclid", "gclid",
]
SPECIAL_VALUES = [
    "", "0", "-1", "1", "2", "99999999999999999999", "-99999999999999999999", "1e309", "NaN", "inf", "0x10",
    "../../etc/passwd", "<script>alert(1)</script>", "' OR 1=1 --", "null", "[]", "{}", "*", "_", "en", "fr", "xx",
    "pages.ArticlePage", "wagtailcore.Page", "pages.Nope", "title,-id", "-title", "random", "id,title,topics",
    "/", "/en/", "//example.org/", "https://example.org/", "prevention", "law-enforcement", "network", "DE", "2014",
    "2014-Q2", "reports_received", "FR", "LU", "csam", "grooming", "\t tab and newline \n", "ü" * 50,
    "🙂" * 10, "a" * MAX_VALUE,
]
# Inserted as they are (not percent-encoded again), with whether each must be refused once decoded.
RAW_VALUES = {
    "%": False, "%zz": False, "%%": False, "%2": False, "100%": False, "%2B": False, "%20": False, "%C3%BC": False,
    "%00": True, "%0": False, "%1F": True, "%7F": True, "%C2%85": True, "%e9": True, "%C0%80": True,
    "%ED%A0%80": True, "%FF%FE": True, "a%00b": True, "%0A": False, "%09": False, "%0C": False, "%1C": True,
}


@dataclass(frozen=True)
class Pair:
    """One query parameter as sent, and whether the guard must refuse it."""

    raw: str
    hostile: bool


def _is_control(char: str) -> bool:
    code = ord(char)
    return (code < 0x20 and char not in "\t\n\x0b\x0c\r") or 0x7F <= code <= 0x9F


def _text_value(text: str) -> tuple[str, bool]:
    return quote(text, safe=""), any(_is_control(char) for char in text) or len(text) > MAX_VALUE


def _bytes_value(data: bytes) -> tuple[str, bool]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return quote_from_bytes(data, safe=""), True
    return _text_value(text)


values = st.one_of(
    st.sampled_from(SPECIAL_VALUES).map(_text_value),
    st.text(max_size=40).map(_text_value),
    st.text(st.characters(codec="utf-8", max_codepoint=0x9F), max_size=12).map(_text_value),
    st.binary(max_size=12).map(_bytes_value),
    st.sampled_from(sorted(RAW_VALUES)).map(lambda raw: (raw, RAW_VALUES[raw])),
    st.integers(MAX_VALUE - 2, MAX_VALUE + 2).map(lambda n: _text_value("x" * n)),
)
names = st.one_of(
    st.sampled_from(KNOWN_NAMES).map(lambda name: (name, False)),
    st.text(min_size=1, max_size=15).map(lambda name: (quote(name, safe=""), any(_is_control(c) for c in name))),
    st.sampled_from(["%00", "a%00", "%FF"]).map(lambda raw: (raw, True)),
)


@st.composite
def query_strings(draw) -> tuple[str, bool]:
    """A raw query string (as a WSGI server passes it) and whether the guard must refuse it."""
    pairs = []
    for _ in range(draw(st.integers(0, 4))):
        name, bad_name = draw(names)
        value, bad_value = draw(values)
        pairs.append(Pair(f"{name}={value}", bad_name or bad_value))
    if draw(st.booleans()) and pairs:  # padding up to and past the query string's limit
        size = draw(st.integers(MAX_QUERY - 300, MAX_QUERY + 300))
        while sum(len(pair.raw) + 1 for pair in pairs) < size:
            pairs.append(Pair("pad=" + "y" * min(900, size), False))
    query = "&".join(pair.raw for pair in pairs)
    return query, any(pair.hostile for pair in pairs) or len(query) > MAX_QUERY


# --- The site and its URLs -----------------------------------------------------------------------------------


@pytest.fixture
def public_site(home, article_index, conference_index, settings, warm_caches):
    settings.PAGE_CACHE_ENABLED = True
    settings.REQUEST_GUARD_MAX_VALUE_LENGTH = MAX_VALUE
    settings.REQUEST_GUARD_MAX_QUERY_LENGTH = MAX_QUERY
    topic = TopicFactory(name="Prevention", slug="prevention")
    sector = SectorFactory(name="Law enforcement", slug="law-enforcement")
    article = ArticlePageFactory(parent=article_index, title="Notice and takedown", slug="notice-and-takedown")
    article.topics.add(topic)
    article.sectors.add(sector)
    article.save_revision().publish()
    ConferenceNotesPageFactory(parent=conference_index, slug="joint-conference")
    StandardPageFactory(parent=home, slug="about")
    archive = NewsletterIndexPageFactory(parent=home)
    make_issue(archive, slug="first-issue")
    dataset = make_dataset("network", title="Network statistics")
    add_observation(dataset, 2014, **figures(1200, 600, 500, 455, 30, 15))
    add_observation(dataset, 2014, "DE", **figures(300, 150, 100, 90, 5, 5))
    stats_page = make_stats_page(home, dataset)
    HotlineDirectoryPageFactory(parent=home, slug="where-to-report")
    HotlineFactory(name="Ligne Claire", countries=["FR"], languages=["fr", "en"], accepts=["csam"])
    HotlineFactory(name="Meldpunt", countries=["BE"], languages=["nl", "fr"], accepts=["csam"], fallback_for=["LU"])
    translate(home, "fr")
    translate(article_index, "fr")
    document = get_document_model().objects.create(
        title="Leaflet", collection=Collection.get_first_root_node(),
        file=ContentFile(b"Leaflet text", name="leaflet.txt"),
    )
    image = wagtail_factories.ImageFactory(title="Shapes")
    samples = {
        "topic": topic.slug, "dataset": dataset.slug, "article": article.pk, "document": document.pk,
        "document_file": document.filename, "image": image.pk, "stats_page": stats_page.pk,
    }
    return public_urls(samples)


def _routes(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern).lstrip("^").removesuffix("$")
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route


def _fill(route: str, samples: dict) -> str | None:
    """A URL for one route of the URL configuration, with the sample content's ids and slugs."""
    if route.startswith(("admin/", "django-admin/")) or "((?:" in route:  # staff only; pages are listed below
        return None
    if route.startswith("documents/(") and "\\d+" in route:
        return f"/documents/{samples['document']}/{samples['document_file']}"
    for_stats = route.startswith(("api/stats/", "statistics-data/"))
    by_name = {
        "slug": samples["dataset"] if for_stats else samples["topic"],
        "pk": samples["image"] if "images/" in route else samples["document"] if "documents/" in route
        else samples["article"],
        "page_id": samples["stats_page"] if for_stats else samples["article"],
        "language": "fr",
    }
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(by_name.get(match.group(1), "x")), route)
    return "/" + url


def public_urls(samples: dict) -> list[str]:
    routes = {_fill(route, samples) for route in _routes(get_resolver().url_patterns)}
    pages = {page.url for page in Page.objects.live().filter(depth__gt=1).specific()}
    return sorted((routes | pages) - {None})


# --- Tests ---------------------------------------------------------------------------------------------------


def _get(client, url: str, query: str):
    return client.get(url, QUERY_STRING=query.encode("utf-8").decode("iso-8859-1"))


def test_the_fuzzed_urls_cover_every_kind_of_public_view(public_site):
    """The URL list reaches pages in both languages, index pages, search, feeds, the APIs and CSV downloads."""
    urls = public_site
    for expected in ("/en/", "/fr/", "/en/best-practices/", "/en/best-practices/notice-and-takedown/",
                     "/en/search/", "/en/feeds/topic/prevention/rss/", "/api/v2/pages/", "/api/v2/pages/find/",
                     "/api/stats/datasets/network/observations/", "/statistics-data/datasets/network.csv",
                     "/en/newsletter-archive/", "/en/where-to-report/", "/sitemap.xml", "/members/login/"):
        assert expected in urls, expected
    assert not any(url.startswith("/admin/") for url in urls)


HOSTILE_QUERIES = [
    "search=%00", "locale=%00", "topic=%00", "sector=%00", "q=%00", "page=%00", "type=%00", "%00=1",
    "q=%FF", "next=%C0%80", "fields=" + "a" * (MAX_VALUE + 1), "q=" + "a" * (MAX_QUERY + 1), "title=%1B",
]


def test_every_public_url_refuses_nul_control_undecodable_and_overlong_values(client, public_site):
    """Each public URL with each kind of hostile query: a 400 with a message saying what is wrong."""
    failures = []
    for url in public_site:
        for query in HOSTILE_QUERIES:
            response = _get(client, url, query)
            if response.status_code != 400 or b"query" not in response.content.lower():
                failures.append((url, query, response.status_code))
    assert failures == []


def test_every_public_url_answers_odd_but_harmless_values_without_a_server_error(client, public_site):
    """Values the guard lets through (literal percent signs, huge numbers, unknown names) reach the views."""
    for url in public_site:
        for query in ("q=100%&topic=%zz", "page=99999999999999999999&child_of=-1", "order=random&limit=0",
                      "search=a%09b&locale=xx&type=pages.Nope", "id=x&html_path=%zz", "q=" + "ü" * MAX_VALUE):
            response = _get(client, url, query)
            assert response.status_code < 500, (url, query)


@given(data=st.data())
@settings(max_examples=max(150, settings.default.max_examples))
def test_hostile_query_strings_get_a_400_and_never_a_server_error(client, public_site, data):
    url = data.draw(st.sampled_from(public_site), label="url")
    query, hostile = data.draw(query_strings(), label="query")
    response = _get(client, url, query)
    event(f"status {response.status_code // 100}xx, {'hostile' if hostile else 'harmless'}")
    assert response.status_code < 500
    if hostile:
        assert response.status_code == 400


def test_a_logged_in_members_pages_answer_odd_values_without_a_server_error(client, public_site):
    """The members' area and every other URL, for a logged-in member: their views read query strings too."""
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    client.raise_request_exception = False
    failures = []
    for url in public_site:
        if url.endswith("/logout/"):
            continue
        for query in ("page=99999999999999999999&period=-1&year=0&q=100%", "id=x&period=%zz&country=ZZ&order=-",
                      "id=99999999999999999999&html_path=/x/", "id=-1&limit=-1&offset=x"):
            response = _get(client, url, query)
            if response.status_code >= 500:
                failures.append((url, query))
    assert failures == []
