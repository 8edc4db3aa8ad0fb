"""The content generation moves on what visitors can see, and only on that (portal.core.generation).

Issue 16, reproduction 8 (second half): any ``wagtailcore`` save moved it, draft revisions and Wagtail's autosave
included, so one editor typing emptied every cache every few seconds. Here an editor's draft, autosave, lock and
workflow leave cached pages in place, and a publish, unpublish, move, restriction or group change reaches every
visitor: at once in the process that made it, within ``PAGE_CACHE_LOCAL_SECONDS`` in every other one. Each test
runs on the local-memory cache and on a real Redis.
"""

import time

from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client

from wagtail.models import PageLogEntry, PageViewRestriction, Workflow

import pytest
from bs4 import BeautifulSoup

from portal.core import cache as page_cache
from portal.core import generation
from tests.factories import ArticlePageFactory, StandardPageFactory, UserFactory, paragraph

pytestmark = pytest.mark.django_db


def visit(url: str):
    return Client().get(url)


def current() -> int:
    return cache.get(page_cache.GENERATION_KEY)


@pytest.fixture
def live_page(home, cache_backend):
    """A published page, stored in the page cache."""
    live_page = StandardPageFactory(parent=home, title="Published words", slug="published",
                               body=paragraph("What visitors read."))
    visit(live_page.url)
    assert visit(live_page.url)["X-Page-Cache"] == "hit"
    return live_page


@pytest.fixture
def editor(db):
    return UserFactory(is_superuser=True, is_staff=True)


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def assert_still_cached(page, text="Published words"):
    response = visit(page.url)
    assert response["X-Page-Cache"] == "hit"
    assert text in response.content.decode()


# --- What leaves cached pages in place ----------------------------------------------------------------------


def test_saving_a_draft_leaves_cached_pages_in_place(live_page, committed):
    before = current()
    live_page.title = "Draft words"
    committed(live_page.save_revision)
    assert current() == before
    assert_still_cached(live_page)


def test_the_admins_autosave_leaves_cached_pages_in_place(live_page, editor, committed):
    """Wagtail 8's autosave: the edit form posted in the background (JSON), again and again."""
    client = admin_client(editor)
    edit_url = f"/admin/pages/{live_page.pk}/edit/"
    form = BeautifulSoup(client.get(edit_url).content, "html.parser").select_one(f'form[action="{edit_url}"]')
    data = {field["name"]: field.get("value", "") for field in form.find_all("input")
            if field.get("name") and field.get("type") not in ("checkbox", "radio", "submit", "file")}
    data.update({field["name"]: field.get_text() for field in form.find_all("textarea") if field.get("name")})
    data.update({"body-count": "0"})
    before = current()
    revision_id = None
    for number in range(3):
        data["title"] = f"Typing {number}"
        if revision_id:
            data["overwrite_revision_id"] = revision_id
        response = committed(client.post, edit_url, data, headers={"Accept": "application/json"})
        assert response.status_code == 200, response.content[:500]
        answer = response.json()
        assert answer["success"], answer
        revision_id = answer["revision_id"]
    assert current() == before
    assert_still_cached(live_page)
    live_page.refresh_from_db()
    assert live_page.draft_title == "Typing 2" and live_page.title == "Published words"


def test_locks_workflows_and_log_entries_leave_cached_pages_in_place(live_page, editor, committed):
    client = admin_client(editor)
    before = current()
    assert committed(client.post, f"/admin/pages/{live_page.pk}/lock/").status_code == 302
    assert committed(client.post, f"/admin/pages/{live_page.pk}/unlock/").status_code == 302
    workflow = Workflow.objects.get(name="Moderators approval")
    committed(lambda: live_page.save_revision(user=editor))
    committed(lambda: workflow.start(live_page.specific, editor))  # submitted for moderation
    committed(lambda: PageLogEntry.objects.log_action(live_page, "wagtail.edit", user=editor))
    assert current() == before
    assert_still_cached(live_page)


def test_a_new_page_saved_as_a_draft_leaves_cached_pages_in_place(live_page, home, committed):
    before = current()
    committed(lambda: StandardPageFactory(parent=home, title="Not yet", live=False))
    assert current() == before
    assert_still_cached(live_page)


# --- What reaches every visitor -----------------------------------------------------------------------------


def test_publishing_reaches_visitors_at_once(live_page, committed):
    live_page.title = "New words"
    committed(lambda: live_page.save_revision().publish())
    response = visit(live_page.url)
    assert response["X-Page-Cache"] == "miss" and "New words" in response.content.decode()


def test_unpublishing_deleting_and_moving_reach_visitors(live_page, home, article_index, committed):
    other = StandardPageFactory(parent=home, title="Other page", slug="other")
    visit(other.url)
    committed(live_page.unpublish)
    assert visit(live_page.url).status_code == 404

    article = ArticlePageFactory(parent=article_index, title="Moving article", slug="moving")
    visit(article_index.url)
    assert "Moving article" in visit(article_index.url).content.decode()  # a hit listing it
    committed(lambda: article.move(home, pos="last-child"))
    assert "Moving article" not in visit(article_index.url).content.decode()
    assert visit("/en/moving/").status_code == 200

    committed(other.delete)
    assert visit(other.url).status_code == 404


def test_a_restriction_and_its_groups_reach_visitors(live_page, committed):
    police = Group.objects.create(name="Test sector")
    restriction = committed(PageViewRestriction.objects.create, page=live_page, restriction_type="groups")
    assert visit(live_page.url).status_code == 302  # to the login page
    before = current()
    committed(restriction.groups.set, [police])
    assert current() != before
    committed(restriction.delete)
    response = visit(live_page.url)
    assert response.status_code == 200 and "Published words" in response.content.decode()


def test_a_group_change_moves_the_generation_and_reaches_the_member(live_page, committed):
    police = Group.objects.create(name="Test sector")
    restriction = PageViewRestriction.objects.create(page=live_page, restriction_type="groups")
    restriction.groups.set([police])
    member = UserFactory()
    browser = admin_client(member)
    assert browser.get(live_page.url).status_code != 200
    before = current()
    committed(member.groups.add, police)
    assert current() != before
    assert "Published words" in browser.get(live_page.url).content.decode()
    committed(police.user_set.remove, member)
    assert browser.get(live_page.url).status_code != 200


def test_another_process_serves_the_publish_within_the_local_window(live_page, settings,
                                                                     django_capture_on_commit_callbacks):
    """This process keeps its copy for PAGE_CACHE_LOCAL_SECONDS after another process's publish, no longer."""
    window = settings.PAGE_CACHE_LOCAL_SECONDS = 1.0
    live_page.title = "Published elsewhere"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        live_page.save_revision().publish()
    assert page_cache.bump_generation in callbacks  # the publish schedules a bump...
    page_cache._local.clear()
    assert_still_cached(live_page)  # not bumped yet: a hit checked against Redis, kept as this process's copy
    checked = time.monotonic()
    cache.incr(page_cache.GENERATION_KEY)  # ...which another web process ran against the shared cache
    assert_still_cached(live_page)  # this process's copy, checked against Redis less than a window ago
    while visit(live_page.url)["X-Page-Cache"] == "hit":
        assert time.monotonic() - checked < window + 0.5, "stale copy served beyond PAGE_CACHE_LOCAL_SECONDS"
        time.sleep(0.05)
    assert "Published elsewhere" in visit(live_page.url).content.decode()


# --- The registry itself ------------------------------------------------------------------------------------


def test_feature_apps_declare_what_their_pages_show():
    labels = {model._meta.label for model in generation.watched_models()}
    assert {"wagtailcore.Page", "wagtailcore.PageViewRestriction", "auth.User_groups", "core.Topic",
            "stats.Observation", "hotlines.Hotline"} <= labels
    assert not labels & {"wagtailcore.Revision", "wagtailcore.PageLogEntry", "wagtailcore.WorkflowState",
                         "wagtailcore.TaskState", "wagtailcore.ReferenceIndex", "wagtailimages.Rendition",
                         "wagtailadmin.EditingSession", "auth.User"}


def test_a_rule_counts_only_the_fields_it_names():
    rule = generation.Rule(fields=frozenset({"text"}), ignore=frozenset({"counter"}))
    assert rule.applies(object(), None)
    assert rule.applies(object(), ["text", "counter"])
    assert not rule.applies(object(), ["counter"])
    assert not rule.applies(object(), ["other"])


def test_a_statistic_or_a_snippet_change_reaches_visitors(live_page, committed):
    from portal.core.models import Topic

    before = current()
    committed(Topic.objects.create, name="Prevention", slug="prevention")
    assert current() != before
    assert visit(live_page.url)["X-Page-Cache"] == "miss"
