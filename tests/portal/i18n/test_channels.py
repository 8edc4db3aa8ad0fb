"""Every channel follows the locale: search, feeds, sitemap alternates, the API's locale filter, index
filters with translated topics."""

import xml.etree.ElementTree as ET

from wagtail.models import Locale

import pytest

from portal.core.models import Topic
from tests.factories import ArticlePageFactory, TopicFactory, paragraph, translate

pytestmark = pytest.mark.django_db

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"


def result_titles(response) -> list[str]:
    from bs4 import BeautifulSoup

    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    return [heading.get_text(strip=True) for heading in soup.select(".search-results h2, .search-results h3")]


@pytest.fixture
def untranslated(index):
    return ArticlePageFactory(parent=index, title="Hash matching", slug="hash-matching",
                              body=paragraph("Hotlines compare hashes (quillfeather)."))


def test_search_gives_the_readers_language_first_then_english_fallback(client, article, untranslated, french):
    french_results = result_titles(client.get("/fr/search/", {"q": "quillfeather"}))
    # The French version of the translated article first, the untranslated English article after it;
    # never the English original of a translated page.
    assert french_results == ["Retrait rapide", "Hash matching"]
    english_results = result_titles(client.get("/en/search/", {"q": "quillfeather"}))
    assert sorted(english_results) == ["Fast takedown", "Hash matching"]


def test_search_pages_through_both_languages(client, index, home):
    translate(home, "fr")
    fr_index = translate(index, "fr", slug="bonnes-pratiques")
    for number in range(14):
        page = ArticlePageFactory(parent=index, title=f"Source {number}", body=paragraph("Prunelwort"))
        if number < 8:
            translate(page, "fr", title=f"Traduction {number}", slug=f"traduction-{number}")
    assert fr_index.live
    first = result_titles(client.get("/fr/search/", {"q": "prunelwort"}))
    second = result_titles(client.get("/fr/search/", {"q": "prunelwort", "page": "2"}))
    assert len(first) == 12 and len(second) == 2
    assert all(title.startswith("Traduction") for title in first[:8])
    assert set(first[8:] + second) == {f"Source {number}" for number in range(8, 14)}


def test_feeds_are_per_language(client, article, untranslated, french):
    def titles(path):
        response = client.get(path)
        assert response.status_code == 200
        return [item.findtext("title") for item in ET.fromstring(response.content).iter("item")], response

    french_titles, response = titles("/fr/feeds/latest/rss/")
    # What the French home page lists: the French page, and the English page not translated yet (never the
    # English original of a translated page).
    assert sorted(french_titles) == ["Hash matching", "Retrait rapide"]
    channel = ET.fromstring(response.content).find("channel")
    assert channel.findtext("language") == "fr"
    assert channel.findtext("link") == "http://testserver/fr/"
    english_titles, _ = titles("/en/feeds/latest/rss/")
    assert sorted(english_titles) == ["Fast takedown", "Hash matching"]
    legacy_titles, _legacy = titles("/feeds/latest/rss/")  # unprefixed: the default language, whatever is asked
    assert sorted(legacy_titles) == ["Fast takedown", "Hash matching"]


def test_a_language_with_nothing_translated_serves_the_default_languages_feed_and_says_so(
    client, article, untranslated, french, django_user_model
):
    # /es/ shows the English pages with a notice; its feed must not be empty (issue 20, point 4).
    from wagtail.models import PageViewRestriction

    secret = ArticlePageFactory(parent=untranslated.get_parent(), title="Members only (bramblecrest)",
                                slug="members-only")
    PageViewRestriction.objects.create(page=secret, restriction_type=PageViewRestriction.LOGIN)
    member = django_user_model.objects.create_user("reader", password="pw")
    client.force_login(member)  # feeds are built for the anonymous public, whoever asks

    response = client.get("/es/feeds/latest/rss/")
    assert response.status_code == 200
    channel = ET.fromstring(response.content).find("channel")
    assert sorted(item.findtext("title") for item in channel.iter("item")) == ["Fast takedown", "Hash matching"]
    assert channel.findtext("language") == "en"  # the language its entries are written in
    assert channel.findtext("link") == "http://testserver/es/"
    assert b"bramblecrest" not in response.content

    atom = ET.fromstring(client.get("/es/feeds/latest/atom/").content)
    entries = atom.findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) == 2 and atom.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert b"bramblecrest" not in client.get("/es/feeds/latest/atom/").content

    # In French, the English entry standing in for a missing translation says its own language.
    french_atom = ET.fromstring(client.get("/fr/feeds/latest/atom/").content)
    langs = {entry.findtext("{http://www.w3.org/2005/Atom}title"): entry.get("{http://www.w3.org/XML/1998/namespace}lang")
             for entry in french_atom.findall("{http://www.w3.org/2005/Atom}entry")}
    assert langs == {"Retrait rapide": None, "Hash matching": "en"}
    assert french_atom.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr"


def test_topic_feed_in_french_names_the_translated_topic(client, article, french):
    topic = TopicFactory(name="Notice and takedown", slug="notice-and-takedown")
    article.topics.add(topic)
    article.save_revision().publish()
    french["article"].topics.add(topic)
    french["article"].save_revision().publish()
    fr_topic = topic.copy_for_translation(Locale.objects.get(language_code="fr"))
    fr_topic.name = "Notification et retrait"
    fr_topic.save()
    response = client.get("/fr/feeds/topic/notice-and-takedown/rss/")
    channel = ET.fromstring(response.content).find("channel")
    assert "Notification et retrait" in channel.findtext("title")
    assert [item.findtext("title") for item in channel.iter("item")] == ["Retrait rapide"]


def test_sitemap_lists_every_language_with_hreflang_alternates(client, article, untranslated, french):
    root = ET.fromstring(client.get("/sitemap.xml").content)
    entries = {}
    for url in root.iter(f"{SITEMAP}url"):
        alternates = {link.get("hreflang"): link.get("href") for link in url.iter(f"{XHTML}link")}
        entries[url.findtext(f"{SITEMAP}loc")] = alternates
    en_url = "http://testserver/en/best-practices/fast-takedown/"
    fr_url = "http://testserver/fr/bonnes-pratiques/retrait-rapide/"
    assert entries[en_url] == {"en": en_url, "fr": fr_url, "x-default": en_url}
    assert entries[fr_url] == {"en": en_url, "fr": fr_url, "x-default": en_url}
    assert entries["http://testserver/en/best-practices/hash-matching/"] == {}  # untranslated: no alternates
    assert "http://testserver/fr/" in entries


def test_api_filters_pages_by_locale(client, article, untranslated, french):
    def titles(**params):
        response = client.get("/api/v2/pages/", {"type": "pages.ArticlePage", **params})
        assert response.status_code == 200
        return sorted(item["title"] for item in response.json()["items"])

    assert titles(locale="fr") == ["Retrait rapide"]
    assert titles(locale="en") == ["Fast takedown", "Hash matching"]
    assert titles() == ["Fast takedown", "Hash matching", "Retrait rapide"]
    assert titles(translation_of=article.id) == ["Retrait rapide"]
    detail = client.get(f"/api/v2/pages/{french['article'].id}/").json()
    assert detail["meta"]["locale"] == "fr"
    assert detail["meta"]["html_url"] == "http://testserver/fr/bonnes-pratiques/retrait-rapide/"


def test_index_filter_lists_topics_in_the_page_language_and_finds_pages_tagged_in_english(client, article, french):
    topic = TopicFactory(name="Prevention", slug="prevention")
    article.topics.add(topic)
    article.save_revision().publish()
    french["article"].topics.add(topic)  # the translation keeps the source's (English) topic
    french["article"].save_revision().publish()
    fr_topic = topic.copy_for_translation(Locale.objects.get(language_code="fr"))
    fr_topic.name, fr_topic.slug = "Prévention", "prevention-fr"
    fr_topic.save()
    html = client.get(french["index"].url).content.decode()
    assert "Prévention" in html and ">Prevention<" not in html
    filtered = client.get(french["index"].url, {"topic": "prevention-fr"}).content.decode()
    assert "Retrait rapide" in filtered
    assert client.get(article.get_parent().url, {"topic": "prevention"}).status_code == 200


def test_topics_may_share_a_slug_across_languages_but_not_within_one(home):
    from django.db import IntegrityError, transaction

    topic = TopicFactory(name="Prevention", slug="prevention")
    fr = Locale.objects.get(language_code="fr")
    copy = topic.copy_for_translation(fr)
    copy.save()  # same name and slug, another language: allowed
    assert copy.translation_key == topic.translation_key and copy.locale == fr
    with pytest.raises(IntegrityError), transaction.atomic():
        Topic.objects.create(name="Prevention", slug="prevention", locale=topic.locale)
