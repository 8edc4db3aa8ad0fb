"""The member dashboard: updates for the member's sector and topics, organisation details, restricted resources."""

from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from wagtail.models import PageViewRestriction

import pytest

from tests.factories import ArticleIndexPageFactory, ArticlePageFactory, TopicFactory
from tests.portal.members.factories import member_of, sector


@pytest.fixture
def articles(home):
    index = ArticleIndexPageFactory(parent=home, slug="best-practices")
    takedown = TopicFactory(name="Notice and takedown", slug="notice-and-takedown")
    prevention = TopicFactory(name="Prevention", slug="prevention")
    pages = {
        "for-hotlines": ArticlePageFactory(parent=index, title="Faster takedown for hotlines", topics=[takedown],
                                           sectors=[sector("hotline")]),
        "for-everyone": ArticlePageFactory(parent=index, title="Prevention campaigns that work", topics=[prevention]),
        "for-industry": ArticlePageFactory(parent=index, title="Hash matching at scale", topics=[takedown],
                                           sectors=[sector("industry")]),
        "police-only": ArticlePageFactory(parent=index, title="Deconfliction notes", topics=[takedown],
                                          sectors=[sector("hotline")]),
    }
    restriction = PageViewRestriction.objects.create(page=pages["police-only"], restriction_type="groups")
    restriction.groups.set([Group.objects.get(name="Law enforcement")])
    return {"topics": {"takedown": takedown, "prevention": prevention}, **pages}


def test_dashboard_requires_login(client, home):
    response = client.get(reverse("members:dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith("/members/login/")


def test_dashboard_shows_updates_for_my_sector_that_i_may_read(client, articles, django_assert_max_num_queries):
    member = member_of("hotline")
    client.force_login(member)
    # (34: the language switcher reads the site's home in each language, the gate each page's translations)
    with django_assert_max_num_queries(34):
        body = client.get(reverse("members:dashboard")).content.decode()
    assert "Faster takedown for hotlines" in body
    assert "Prevention campaigns that work" in body  # written for every sector
    assert "Hash matching at scale" not in body  # for another sector
    assert "Deconfliction notes" not in body  # restricted to law enforcement
    assert member.membership.organisation.name in body


def test_saved_topics_narrow_the_updates(client, articles):
    member = member_of("hotline")
    client.force_login(member)
    response = client.post(reverse("members:preferences"), {"topics": [articles["topics"]["prevention"].pk]})
    assert response.status_code == 302
    body = client.get(reverse("members:dashboard")).content.decode()
    assert "Prevention campaigns that work" in body
    assert "Faster takedown for hotlines" not in body
    assert list(member.membership.topics.all()) == [articles["topics"]["prevention"]]


def test_dashboard_lists_restricted_resources_i_may_read(client, articles, home):
    client.force_login(member_of("law-enforcement"))
    body = client.get(reverse("members:dashboard")).content.decode()
    assert "Deconfliction notes" in body
    client.force_login(member_of("ngo"))
    assert "Deconfliction notes" not in client.get(reverse("members:dashboard")).content.decode()


def test_dashboard_query_count_does_not_grow_with_content(client, articles):
    client.force_login(member_of("hotline"))
    url = reverse("members:dashboard")
    client.get(url)  # warm caches (site root paths, content types)
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    index = articles["for-hotlines"].get_parent()
    for number in range(15):
        ArticlePageFactory(parent=index, title=f"Extra practice {number}", sectors=[sector("hotline")])
    with CaptureQueriesContext(connection) as after:
        body = client.get(url).content.decode()
    assert "Extra practice 14" in body
    assert len(after.captured_queries) == len(before.captured_queries)
