"""Index pages filter by topic and sector, paginate, and list only what the viewer may read."""

import json

from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from wagtail.models import PageViewRestriction

import pytest

from portal.pages.models import INDEX_PAGE_SIZE, compute_reading_time
from tests.factories import (
    ArticlePageFactory,
    ConferenceNotesPageFactory,
    SectorFactory,
    TopicFactory,
    UserFactory,
)


def index_context(index_page, query="", user=None):
    request = RequestFactory().get(f"/?{query}")
    request.user = user or AnonymousUser()
    return index_page.get_context(request)


@pytest.fixture
def taxonomy(db):
    return {
        "takedown": TopicFactory(name="Notice and takedown", slug="notice-and-takedown"),
        "prevention": TopicFactory(name="Prevention", slug="prevention"),
        "hotline": SectorFactory(name="Hotlines", slug="hotline"),
        "industry": SectorFactory(name="Industry", slug="industry"),
    }


def test_topic_and_sector_filters_combine(article_index, taxonomy):
    both = ArticlePageFactory(parent=article_index, title="Takedown for hotlines")
    both.topics.set([taxonomy["takedown"]])
    both.sectors.set([taxonomy["hotline"]])
    both.save_revision().publish()
    topic_only = ArticlePageFactory(parent=article_index, title="Takedown for industry")
    topic_only.topics.set([taxonomy["takedown"]])
    topic_only.sectors.set([taxonomy["industry"]])
    topic_only.save_revision().publish()
    ArticlePageFactory(parent=article_index, title="Unrelated")

    by_topic = index_context(article_index, "topic=notice-and-takedown")
    assert {p.title for p in by_topic["children"]} == {"Takedown for hotlines", "Takedown for industry"}
    assert by_topic["active_topic"] == taxonomy["takedown"]

    by_both = index_context(article_index, "topic=notice-and-takedown&sector=hotline")
    assert [p.title for p in by_both["children"]] == ["Takedown for hotlines"]
    assert by_both["active_sector"] == taxonomy["hotline"]


def test_unknown_filter_slug_is_ignored_not_an_error(article_index):
    ArticlePageFactory(parent=article_index)
    context = index_context(article_index, "topic=no-such-topic&sector=nope")
    assert context["active_topic"] is None
    assert len(context["children"]) == 1


def test_pagination_keeps_filters(article_index, taxonomy):
    for _ in range(INDEX_PAGE_SIZE + 3):
        article = ArticlePageFactory(parent=article_index)
        article.topics.set([taxonomy["prevention"]])
        article.save_revision().publish()
    context = index_context(article_index, "topic=prevention&page=2")
    assert context["page_obj"].number == 2
    assert len(context["children"]) == 3
    assert context["filter_query"] == "topic=prevention"
    # An out-of-range or malformed page number shows a real page, never an error.
    assert index_context(article_index, "topic=prevention&page=99")["page_obj"].number == 2
    assert index_context(article_index, "page=abc")["page_obj"].number == 1


def test_newest_first_and_drafts_hidden(article_index):
    import datetime

    older = ArticlePageFactory(parent=article_index, title="Older", date=datetime.date(2014, 1, 1))
    newer = ArticlePageFactory(parent=article_index, title="Newer", date=datetime.date(2015, 1, 1))
    ArticlePageFactory(parent=article_index, title="Draft", live=False)
    assert list(index_context(article_index)["children"]) == [newer, older]


def test_restricted_children_only_listed_for_members(article_index):
    public = ArticlePageFactory(parent=article_index, title="Public practice")
    private = ArticlePageFactory(parent=article_index, title="Members practice")
    PageViewRestriction.objects.create(page=private, restriction_type=PageViewRestriction.LOGIN)

    assert list(index_context(article_index)["children"]) == [public]
    member_view = index_context(article_index, user=UserFactory())
    assert {p.title for p in member_view["children"]} == {"Public practice", "Members practice"}


def test_conference_index_filters_by_topic(conference_index, taxonomy):
    hague = ConferenceNotesPageFactory(parent=conference_index, title="The Hague 2015")
    hague.topics.set([taxonomy["prevention"]])
    hague.save_revision().publish()
    ConferenceNotesPageFactory(parent=conference_index, title="Other meeting")
    titles = [p.title for p in index_context(conference_index, "topic=prevention")["children"]]
    assert titles == ["The Hague 2015"]


def test_reading_time_counts_words_across_blocks(article_index):
    words = " ".join(["word"] * 450)
    body = json.dumps(
        [
            {"type": "heading", "value": {"text": "Three words here", "level": "h2"}},
            {"type": "paragraph", "value": f"<p>{words}</p>"},
            {"type": "quote", "value": {"quote": "short quote", "attribution": "", "role": ""}},
        ]
    )
    article = ArticlePageFactory(parent=article_index, body=body)
    assert article.reading_time == 3  # 455 words at 200 a minute, rounded up
    assert compute_reading_time([]) == 1
