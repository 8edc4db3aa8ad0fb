"""The read API: only pages and documents the requesting user may see, with the page types' fields."""

from django.core.files.base import ContentFile

from wagtail.documents import get_document_model
from wagtail.models import Collection, CollectionViewRestriction, PageViewRestriction

import pytest

from tests.factories import ArticlePageFactory, ConferenceNotesPageFactory, TopicFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def articles(article_index):
    topic = TopicFactory(name="Notice and takedown", slug="notice-and-takedown")
    public = ArticlePageFactory(parent=article_index, title="Public practice", summary="Open to all.")
    public.topics.add(topic)
    public.save()
    restricted = ArticlePageFactory(parent=article_index, title="Restricted practice", summary="Members only.")
    PageViewRestriction.objects.create(page=restricted, restriction_type=PageViewRestriction.LOGIN)
    return {"public": public, "restricted": restricted, "topic": topic}


def listed_titles(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["title"] for item in response.json()["items"]]


def test_article_listing_includes_public_pages_with_their_fields(client, articles):
    response = client.get("/api/v2/pages/", {"type": "pages.ArticlePage", "fields": "summary,topics,reading_time"})

    items = response.json()["items"]
    assert listed_titles(response) == ["Public practice"]
    assert items[0]["summary"] == "Open to all."
    assert items[0]["topics"] == [{"name": "Notice and takedown", "slug": "notice-and-takedown"}]
    assert items[0]["reading_time"] == 1
    assert items[0]["meta"]["html_url"].endswith("/best-practices/" + articles["public"].slug + "/")


def test_restricted_pages_are_listed_to_members_only(client, articles):
    assert "Restricted practice" not in listed_titles(client.get("/api/v2/pages/"))

    client.force_login(UserFactory())
    titles = listed_titles(client.get("/api/v2/pages/", {"type": "pages.ArticlePage", "fields": "summary"}))
    assert titles == ["Public practice", "Restricted practice"]


def test_search_through_the_api_respects_restrictions(client, articles):
    response = client.get("/api/v2/pages/", {"search": "Restricted"})
    assert "Restricted practice" not in listed_titles(response)


def test_detail_of_a_restricted_page_is_404_for_anonymous_and_readable_for_members(client, articles):
    url = f"/api/v2/pages/{articles['restricted'].id}/"

    response = client.get(url)
    assert response.status_code == 404
    assert "Members only." not in response.content.decode()

    client.force_login(UserFactory())
    member = client.get(url)
    assert member.status_code == 200
    assert member.json()["summary"] == "Members only."


def test_unpublished_page_detail_is_404(client, article_index):
    draft = ArticlePageFactory(parent=article_index)
    draft.unpublish()

    assert client.get(f"/api/v2/pages/{draft.id}/").status_code == 404


def test_conference_notes_expose_event_fields(client, conference_index):
    notes = ConferenceNotesPageFactory(
        parent=conference_index, event_name="Network meeting", city="Lisbon", country="PT"
    )

    data = client.get(f"/api/v2/pages/{notes.id}/").json()

    assert data["event_name"] == "Network meeting"
    assert data["city"] == "Lisbon"
    assert data["country"] == {"code": "PT", "name": "Portugal"}
    assert data["start_date"] == "2015-06-01"


def test_children_of_a_restricted_page_are_hidden_from_child_of_filter(client, home, article_index, articles):
    response = client.get("/api/v2/pages/", {"child_of": article_index.id})
    assert listed_titles(response) == ["Public practice"]


def test_listing_makes_a_bounded_number_of_queries(client, article_index, django_assert_max_num_queries):
    topic = TopicFactory(slug="bounded")
    for _ in range(15):
        article = ArticlePageFactory(parent=article_index)
        article.topics.add(topic)
        article.save()

    with django_assert_max_num_queries(15):
        response = client.get("/api/v2/pages/", {"type": "pages.ArticlePage", "fields": "summary,topics,sectors"})
    assert len(listed_titles(response)) == 15


def _document(title: str, collection: Collection):
    document = get_document_model()(title=title, collection=collection)
    document.file.save(f"{title}.txt", ContentFile(b"statistics only"), save=False)
    document.save()
    return document


def test_documents_in_a_restricted_collection_are_listed_to_members_only(client, db):
    root = Collection.get_first_root_node()
    restricted = root.add_child(name="Members' documents")
    nested = restricted.add_child(name="Working group papers")
    CollectionViewRestriction.objects.create(collection=restricted, restriction_type=CollectionViewRestriction.LOGIN)
    _document("Annual report", root)
    _document("Members briefing", restricted)
    _document("Working paper", nested)

    assert listed_titles(client.get("/api/v2/documents/")) == ["Annual report"]
    hidden = get_document_model().objects.get(title="Members briefing")
    assert client.get(f"/api/v2/documents/{hidden.id}/").status_code == 404

    client.force_login(UserFactory())
    assert listed_titles(client.get("/api/v2/documents/")) == ["Annual report", "Members briefing", "Working paper"]


def test_group_restricted_collection_is_listed_only_to_that_group(client, db, django_user_model):
    from django.contrib.auth.models import Group

    hotlines = Group.objects.create(name="API test working group")
    root = Collection.get_first_root_node()
    collection = root.add_child(name="Hotline papers")
    restriction = CollectionViewRestriction.objects.create(
        collection=collection, restriction_type=CollectionViewRestriction.GROUPS
    )
    restriction.groups.add(hotlines)
    _document("Hotline paper", collection)

    client.force_login(UserFactory())
    assert listed_titles(client.get("/api/v2/documents/")) == []

    client.force_login(UserFactory(groups=[hotlines]))
    assert listed_titles(client.get("/api/v2/documents/")) == ["Hotline paper"]


def test_the_api_is_read_only(client, articles):
    response = client.post("/api/v2/pages/", {"title": "New"})
    assert response.status_code == 405


def test_images_in_a_restricted_collection_are_listed_to_members_only(client, db):
    import wagtail_factories

    root = Collection.get_first_root_node()
    restricted = root.add_child(name="Members' charts")
    CollectionViewRestriction.objects.create(collection=restricted, restriction_type=CollectionViewRestriction.LOGIN)
    wagtail_factories.ImageFactory(title="Public chart", collection=root)
    wagtail_factories.ImageFactory(title="Members chart", collection=restricted)

    assert listed_titles(client.get("/api/v2/images/")) == ["Public chart"]

    client.force_login(UserFactory())
    assert listed_titles(client.get("/api/v2/images/")) == ["Public chart", "Members chart"]


def test_http_basic_credentials_do_not_unlock_restricted_pages(client, articles):
    import base64

    UserFactory(username="basic-member")  # password "correct-horse-battery" from the factory
    token = base64.b64encode(b"basic-member:correct-horse-battery").decode()

    response = client.get("/api/v2/pages/", HTTP_AUTHORIZATION=f"Basic {token}")

    assert "Restricted practice" not in listed_titles(response)
