"""Signed-in members served from the caches (portal.members.user_cache, cached sessions, fragments shared by
every member with the same restriction-relevant groups), as in production with Redis: a member's page costs
almost no queries, and still nobody ever sees what they may not read. Each change that takes access away
(deactivation, organisation deactivated, group removed, password changed) applies to the very next request.
"""

from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from wagtail.models import PageViewRestriction

import pytest

from portal.core import fragments
from portal.members.services import set_organisation_active
from tests.factories import ArticlePageFactory, StandardPageFactory, UserFactory, paragraph, translate
from tests.portal.members.factories import member_of

pytestmark = pytest.mark.django_db

SECRET = "Quarterly triage figures for industry partners"


@pytest.fixture(autouse=True)
def production_like(warm_caches, settings):
    """Caches as with Redis, plus production's two-factor rules and login throttling."""
    settings.STAFF_2FA_REQUIRED = True
    settings.PRIVACY_SECOND_FACTOR_GROUPS = ["Law enforcement"]
    settings.AXES_ENABLED = True


@pytest.fixture
def industry_page(home):
    """A page for the Industry sector only, in the menu, with a word no one else may see."""
    page = StandardPageFactory(parent=home, title="Industry desk", show_in_menus=True, intro=SECRET)
    restriction = PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.GROUPS)
    restriction.groups.add(Group.objects.get(name="Industry"))
    return page


@pytest.fixture
def public_article(article_index):
    return ArticlePageFactory(parent=article_index, title="Notice and takedown",
                              body=paragraph("Hosting providers act fast."))


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def get(client: Client, url: str):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response, len(queries)


def text(response) -> str:
    return response.content.decode() if response.status_code == 200 else ""


def test_a_members_article_costs_one_query_once_warm(public_article, industry_page):
    """Session and user from the cache, no permission or group queries, fragments shared: the article's own
    row is the only query (the budget is 3), for a public article and for their sector's members-only page
    (before: 7 and 10)."""
    reader = signed_in(member_of("industry"))
    reader.get(public_article.url)
    response, count = get(reader, public_article.url)
    assert response.status_code == 200 and "site-account__logout" in text(response)  # really signed in
    assert "Industry desk" in text(response)  # their sector's page in their menu
    assert count <= 1, count
    reader.get(industry_page.url)
    response, count = get(reader, industry_page.url)  # members-only: the gate decides, without asking again
    assert SECRET in text(response)
    assert count <= 1, count


def test_members_with_the_same_relevant_groups_share_fragments_and_no_one_else_does(public_article, industry_page,
                                                                                      settings):
    settings.PAGE_CACHE_ENABLED = True
    first, second = member_of("industry"), member_of("industry")
    other_sector = member_of("hotline")
    unrelated = Group.objects.create(name="Book club")  # no restriction names it
    second.groups.add(unrelated)

    a = signed_in(first)
    a.get(public_article.url)  # fills the article's fragments for Industry members
    b = signed_in(second)
    b.get("/en/")  # reads the second member into the cache (elsewhere: this article's fragments stay unread)
    response, count = get(b, public_article.url)
    assert "Industry desk" in text(response)
    assert count <= 1, count  # its first view of the article: the first member's fragments (the extra group
    # changes nothing they may see)

    for client in (signed_in(other_sector), Client()):  # another sector, anonymous: never the Industry copy
        for _ in range(2):
            response = client.get(public_article.url)
            assert response.status_code == 200 and "Industry desk" not in text(response)
        refused = client.get(industry_page.url)
        assert refused.status_code == 302 and SECRET not in refused.content.decode()
    assert SECRET in text(a.get(industry_page.url))


def test_a_group_some_restriction_starts_naming_splits_the_copies(public_article, home, committed):
    member, book_reader = member_of("industry"), member_of("industry")
    book_club = Group.objects.create(name="Book club")
    book_reader.groups.add(book_club)
    a, b = signed_in(member), signed_in(book_reader)
    a.get(public_article.url)
    b.get(public_article.url)

    def open_club():
        page = StandardPageFactory(parent=home, title="Book club corner", show_in_menus=True)
        restriction = PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.GROUPS)
        restriction.groups.add(book_club)
    committed(open_club)
    fragments.local_copies.clear()
    assert "Book club corner" in text(b.get(public_article.url))
    assert "Book club corner" not in text(a.get(public_article.url))


def test_a_deactivated_member_loses_access_at_once(industry_page, committed):
    user = member_of("industry")
    client = signed_in(user)
    assert SECRET in text(client.get(industry_page.url))
    assert SECRET in text(client.get(industry_page.url))  # from the caches now

    user.is_active = False
    committed(user.save)
    response = client.get(industry_page.url)
    assert response.status_code == 302 and SECRET not in response.content.decode()


def test_an_uncommitted_deactivation_applies_to_the_next_request_of_its_own_process(industry_page):
    user = member_of("industry")
    client = signed_in(user)
    client.get(industry_page.url)
    user.is_active = False
    user.save()  # no commit in this test: the cached copy is dropped at once all the same
    assert client.get(industry_page.url).status_code == 302


def test_deactivating_the_organisation_ends_access_at_once(industry_page, committed):
    user = member_of("industry")
    client = signed_in(user)
    assert SECRET in text(client.get(industry_page.url))
    committed(set_organisation_active, user.membership.organisation, False)
    response = client.get(industry_page.url)
    assert response.status_code == 302 and SECRET not in response.content.decode()
    assert "site-account__logout" not in text(client.get(industry_page.url.rsplit("/", 2)[0] + "/"))


@pytest.mark.parametrize("side", ["user", "group"])
def test_removing_a_member_from_the_group_ends_access_at_once(industry_page, committed, side):
    user = member_of("industry")
    client = signed_in(user)
    assert SECRET in text(client.get(industry_page.url))
    industry = Group.objects.get(name="Industry")
    if side == "user":
        committed(user.groups.remove, industry)
    else:
        committed(industry.user_set.remove, user)
    response = client.get(industry_page.url)
    assert response.status_code == 302 and SECRET not in response.content.decode()


def test_deleting_the_group_ends_access_at_once(industry_page, committed):
    user = member_of("industry")
    client = signed_in(user)
    assert SECRET in text(client.get(industry_page.url))
    extra = Group.objects.create(name="Industry partners")
    restriction = industry_page.get_view_restrictions().first()
    restriction.groups.set([extra])
    user.groups.add(extra)
    assert SECRET in text(client.get(industry_page.url))
    committed(extra.delete)
    assert client.get(industry_page.url).status_code == 302


def test_a_password_change_signs_out_every_other_session(public_article, committed):
    user = member_of("industry")
    phone, laptop = signed_in(user), signed_in(user)
    assert "site-account__logout" in text(phone.get(public_article.url))
    assert "site-account__logout" in text(laptop.get(public_article.url))
    user.set_password("a new long passphrase 2026")
    committed(user.save)
    assert "site-account__logout" not in text(laptop.get(public_article.url))


def test_a_member_granted_the_admin_is_staff_on_the_next_request(public_article, committed):
    """Staff must pass the second factor: a group that gains admin access drops its members' cached copies."""
    user = member_of("industry")
    client = signed_in(user)
    assert client.get(public_article.url).status_code == 200
    editors = Group.objects.create(name="Desk editors")
    user.groups.add(editors)
    assert client.get(public_article.url).status_code == 200
    committed(editors.permissions.add, Permission.objects.get(codename="access_admin"))
    response = client.get(public_article.url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("members_2fa_setup"))


def test_the_language_switch_serves_each_language_its_own_copy(home, article_index, public_article):
    french_home = translate(home, "fr")
    translate(article_index, "fr", slug="bonnes-pratiques")
    french = translate(public_article, "fr", title="Notification et retrait", slug="notification-et-retrait")
    assert french_home.url.startswith("/fr/")
    client = signed_in(member_of("industry"))
    for _ in range(2):
        english = text(client.get(public_article.url))
        in_french = text(client.get(french.url))
        assert "Notice and takedown" in english and 'lang="en"' in english
        assert "Notification et retrait" in in_french and 'lang="fr"' in in_french
        assert "Notification et retrait" not in english


def test_a_members_page_is_never_stored_for_anonymous_visitors(public_article, industry_page, settings):
    settings.PAGE_CACHE_ENABLED = True
    client = signed_in(member_of("industry"))
    response = client.get(public_article.url)
    assert "no-store" in response["Cache-Control"] and "X-Page-Cache" not in response
    for _ in range(2):
        anonymous = Client().get(public_article.url)
        assert "site-account__logout" not in text(anonymous) and "Industry desk" not in text(anonymous)
    assert "site-account__logout" in text(client.get(public_article.url))


def test_staff_are_read_afresh_on_every_request(public_article):
    """Staff are not kept in the cache: their permissions change more often and matter more."""
    from portal.members import user_cache

    staff = UserFactory(is_staff=True)
    client = signed_in(staff)
    client.get(public_article.url)
    client.get(public_article.url)
    from django.core.cache import cache

    assert cache.get(f"{user_cache.ENTRY_PREFIX}{staff.pk}") is None
