"""RSS and Atom feeds: latest public articles and conference notes, per topic, never restricted text."""

import datetime
import xml.etree.ElementTree as ET

from wagtail.models import PageViewRestriction

import pytest

from tests.factories import ArticlePageFactory, ConferenceNotesPageFactory, TopicFactory, paragraph

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def rss_items(response) -> list[ET.Element]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    return ET.fromstring(response.content).findall("./channel/item")


def atom_entries(response) -> list[ET.Element]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    return ET.fromstring(response.content).findall(f"{ATOM}entry")


@pytest.fixture
def mixed_content(article_index, conference_index):
    prevention = TopicFactory(name="Prevention", slug="prevention")
    old = ArticlePageFactory(
        parent=article_index, title="Old article", date=datetime.date(2020, 1, 10), summary="Old lessons."
    )
    conference = ConferenceNotesPageFactory(
        parent=conference_index,
        title="Spring conference",
        start_date=datetime.date(2021, 3, 1),
        end_date=datetime.date(2021, 3, 2),
        summary="What the spring conference agreed.",
    )
    new = ArticlePageFactory(
        parent=article_index, title="New article", date=datetime.date(2022, 5, 5), summary="Fresh lessons."
    )
    new.topics.add(prevention)
    new.save()
    conference.topics.add(prevention)
    conference.save()
    return {"old": old, "conference": conference, "new": new, "topic": prevention}


def test_latest_rss_lists_articles_and_conference_notes_newest_first(client, mixed_content):
    items = rss_items(client.get("/feeds/latest/rss/"))

    assert [item.findtext("title") for item in items] == ["New article", "Spring conference", "Old article"]
    newest = items[0]
    assert newest.findtext("link") == f"http://testserver/en/best-practices/{mixed_content['new'].slug}/"
    assert newest.findtext("description") == "Fresh lessons."
    assert [category.text for category in newest.findall("category")] == ["Prevention"]
    assert newest.findtext("pubDate").startswith("Thu, 05 May 2022")
    guids = [item.findtext("guid") for item in items]
    assert len(set(guids)) == 3
    assert all(guid.startswith("tag:testserver,") for guid in guids)


def test_latest_atom_has_the_same_entries(client, mixed_content):
    entries = atom_entries(client.get("/feeds/latest/atom/"))

    assert [entry.findtext(f"{ATOM}title") for entry in entries] == ["New article", "Spring conference", "Old article"]
    assert entries[1].find(f"{ATOM}link").get("href").startswith("http://testserver/en/conferences/")
    assert entries[1].findtext(f"{ATOM}summary") == "What the spring conference agreed."
    assert entries[0].findtext(f"{ATOM}id").startswith("tag:testserver,")


def test_latest_feed_is_capped_at_twenty(client, article_index):
    for number in range(23):
        ArticlePageFactory(
            parent=article_index,
            title=f"Article {number}",
            date=datetime.date(2020, 1, 1) + datetime.timedelta(days=number),
        )

    items = rss_items(client.get("/feeds/latest/rss/"))

    assert len(items) == 20
    assert items[0].findtext("title") == "Article 22"
    assert items[-1].findtext("title") == "Article 3"


def test_topic_feed_lists_only_that_topic(client, mixed_content):
    rss = rss_items(client.get("/feeds/topic/prevention/rss/"))
    atom = atom_entries(client.get("/feeds/topic/prevention/atom/"))

    assert [item.findtext("title") for item in rss] == ["New article", "Spring conference"]
    assert [entry.findtext(f"{ATOM}title") for entry in atom] == ["New article", "Spring conference"]


def test_unknown_topic_is_404(client, mixed_content):
    assert client.get("/feeds/topic/no-such-topic/rss/").status_code == 404
    assert client.get("/feeds/topic/no-such-topic/atom/").status_code == 404


def test_restricted_and_unpublished_pages_never_reach_a_feed(client, article_index, django_user_model):
    topic = TopicFactory(slug="hotlines")
    secret = ArticlePageFactory(
        parent=article_index,
        title="Members only: snarkelwood",
        summary="snarkelwood operational detail",
        body=paragraph("snarkelwood"),
    )
    secret.topics.add(topic)
    secret.save()
    PageViewRestriction.objects.create(page=secret, restriction_type=PageViewRestriction.LOGIN)
    draft = ArticlePageFactory(parent=article_index, title="Draft dapplegrim", summary="dapplegrim")
    draft.unpublish()
    ArticlePageFactory(parent=article_index, title="Public article")

    # Even a logged-in member gets the public feed: feeds are cacheable and shared.
    client.force_login(django_user_model.objects.create_user("member", password="x" * 12))
    urls = ("/feeds/latest/rss/", "/feeds/latest/atom/", "/feeds/topic/hotlines/rss/", "/feeds/topic/hotlines/atom/")
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200
        body = response.content.decode()
        assert "snarkelwood" not in body
        assert "dapplegrim" not in body
    assert "Public article" in client.get("/feeds/latest/rss/").content.decode()


def test_feeds_are_publicly_cacheable(client, mixed_content):
    response = client.get("/feeds/latest/rss/")
    assert "public" in response["Cache-Control"]


def test_feed_makes_a_bounded_number_of_queries(client, article_index, conference_index, django_assert_max_num_queries):
    topic = TopicFactory(slug="bounded")
    for _ in range(12):
        article = ArticlePageFactory(parent=article_index)
        article.topics.add(topic)
        article.save()
        ConferenceNotesPageFactory(parent=conference_index)

    with django_assert_max_num_queries(10):
        items = rss_items(client.get("/feeds/latest/rss/"))
    assert len(items) == 20
