"""The network at its real size (issue 22, point 4), at CI's small fractions of it: ``seed_scale`` builds a valid
page tree and what it promises, every public page type costs the same queries at two sizes, and the privacy
gate's restriction reads do not grow with the pages inside restricted subtrees.

The demo content (``seed_demo``) is the base, as in ``bench/scale.py``, which runs the same comparison at full size.
"""

import io

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from wagtail.models import Page, PageViewRestriction

import pytest

from newsletter.models import Delivery, Send, Subscriber
from portal.core import privacy
from portal.demo import scale
from portal.members.models import Membership, Organisation
from portal.pages.models import ArticleIndexPage, ArticlePage, HomePage, StandardPage
from portal.stats.models import Dataset, Observation, StatisticsPage
from tests.factories import SectorFactory
from tests.services import require_postgres

pytestmark = [pytest.mark.django_db, pytest.mark.services]

SMALL = 0.002  # 20 pages, 1 restricted subtree, 1 organisation, 4 members, 200 subscribers, 1 dataset
MORE = 0.008  # added to SMALL: 0.01 in all (100 pages, 2 subtrees, 20 members, 1,000 subscribers, 2 datasets)


@pytest.fixture
def demo(db):
    require_postgres()  # the size comparisons are for the production database
    call_command("seed_demo", stdout=io.StringIO())


def seed_scale(fraction: float) -> str:
    output = io.StringIO()
    call_command("seed_scale", "--scale", str(fraction), stdout=output)
    return output.getvalue()


def page_urls() -> dict[str, str]:
    """One URL of every public page type, and a members-only article (the demo's, for law enforcement)."""
    home = HomePage.objects.get(locale__language_code=settings.LANGUAGE_CODE)
    index = ArticleIndexPage.objects.child_of(home).first()
    article = ArticlePage.objects.child_of(index).live().public().order_by("-date", "pk").first()
    restricted = ArticlePage.objects.filter(
        pk__in=PageViewRestriction.objects.filter(restriction_type="groups").values("page_id")).get()
    prefix = home.url.rstrip("/")
    return {
        "home": home.url, "article": article.url, "index": index.url,
        "search": prefix + "/search/?q=takedown", "rss": prefix + "/feeds/latest/rss/",
        "atom": prefix + "/feeds/latest/atom/", "sitemap": "/sitemap.xml", "api list": "/api/v2/pages/?limit=20",
        "statistics": StatisticsPage.objects.live().public().order_by("pk").first().url,
        "member's article": restricted.url,
    }


def query_counts() -> dict[str, int]:
    """Queries of the second request of each page (the first fills per-process state, as a running server has)."""
    member = get_user_model().objects.get(username="demo-law-enforcement")
    counts = {}
    for name, url in page_urls().items():
        client = Client()
        if name == "member's article":
            client.force_login(member)
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        counts[name] = len(queries)
    return counts


def test_seed_scale_builds_a_valid_tree_and_what_it_promises_and_page_queries_do_not_grow_with_it(demo, client):
    """One test, so that the demo is seeded once (the slow part): SMALL checked in full, counted, then MORE."""
    before = {"pages": Page.objects.filter(live=True).count(), "restrictions": PageViewRestriction.objects.count(),
              "subscribers": Subscriber.objects.count(), "users": get_user_model().objects.count()}
    size = scale.counts(SMALL)

    output = seed_scale(SMALL)

    assert "Done in" in output
    assert all(not problems for problems in Page.find_problems()), Page.find_problems()  # what fixtree checks
    assert Page.objects.filter(live=True).count() - before["pages"] >= size["pages"]
    translations = Page.objects.filter(translation_key__in=ArticlePage.objects.filter(
        slug__startswith="practice-note-", locale__language_code="en").values("translation_key")).exclude(
        locale__language_code="en")
    assert translations.count() >= size["pages"] // 3 - scale.PAGES_PER_RESTRICTED_SUBTREE
    assert PageViewRestriction.objects.count() - before["restrictions"] == size["restricted_subtrees"]
    assert Organisation.objects.filter(name__startswith=scale.ORGANISATION_PREFIX).count() == size["organisations"]
    members = Membership.objects.filter(organisation__name__startswith=scale.ORGANISATION_PREFIX)
    assert members.count() == size["members"]
    assert Subscriber.objects.count() - before["subscribers"] == size["subscribers"]
    assert Delivery.objects.filter(send__audience_key=scale.SEND_AUDIENCE_KEY).count() == Subscriber.objects.filter(
        email__startswith="scale-reader", status=Subscriber.Status.SUBSCRIBED).count()
    assert Send.objects.get(audience_key=scale.SEND_AUDIENCE_KEY).status == Send.Status.PAUSED  # nothing is sent
    datasets = Dataset.objects.filter(slug__startswith=scale.DATASET_PREFIX)
    assert datasets.count() == size["datasets"]
    assert Observation.objects.filter(dataset__in=datasets).count() == (
        size["datasets"] * len(scale.YEARS) * 4 * (len(scale.COUNTRIES) + 1))  # every quarter, country and total
    assert not Subscriber.objects.filter(email__startswith="scale-reader").exclude(
        email__regex=r"@example\.(org|net|com)$").exists()

    # The pages are served like any other: a translation in its language, an article found by search, a
    # restricted briefing closed to visitors and open to a member of its sector only.
    translated = ArticlePage.objects.filter(slug__startswith="practice-note-").exclude(
        locale__language_code="en").first()
    response = client.get(translated.url)
    assert response.status_code == 200 and translated.title in response.content.decode()
    assert "Practice note" in client.get("/en/search/", {"q": "practice note"}).content.decode()
    briefing = StandardPage.objects.get(slug="sector-briefing-0", locale__language_code="en")
    assert client.get(briefing.url).status_code == 302
    group = briefing.view_restrictions.get().groups.get()
    reader = get_user_model().objects.filter(groups=group, membership__isnull=False).first()
    client.force_login(reader)
    assert client.get(briefing.url).status_code == 200

    # Every public page type (and a member's article) costs the same queries at SMALL and at SMALL + MORE.
    small = query_counts()
    seed_scale(MORE)
    larger = query_counts()

    assert all(not problems for problems in Page.find_problems()), Page.find_problems()
    articles = ArticlePage.objects.filter(slug__startswith="practice-note-")
    assert articles.count() >= 5 * scale.counts(SMALL)["pages"] // 2
    assert small == larger, {name: (small[name], larger[name]) for name in small}


def rows_read_by_the_gate() -> tuple[int, int]:
    """(queries, rows) the privacy gate reads to work out where every restriction reaches."""
    rows = []

    def count_rows(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        rows.append(context["cursor"].rowcount)  # psycopg: the rows a SELECT returned
        return result

    with connection.execute_wrapper(count_rows):
        reach = privacy._compute_reach(privacy._read_page_restrictions())
        privacy._minimal(path for paths in reach.values() for path in paths)
    return len(rows), sum(rows)


def test_the_privacy_gate_reads_do_not_grow_with_the_pages_inside_restricted_subtrees(home, article_index):
    require_postgres()  # psycopg counts the rows a SELECT returned
    SectorFactory(slug="hotline", name="Hotlines")
    seed_scale(SMALL)  # a restricted subtree translated into French (its top page and the pages under it)
    tops = list(StandardPage.objects.filter(pk__in=PageViewRestriction.objects.values("page_id")))
    translated_tops = [page for top in tops for page in top.get_translations()]
    assert translated_tops, "the small seed translates its restricted subtree"
    before = rows_read_by_the_gate()
    closed_before = privacy._closed_paths(privacy.Viewer.anonymous())

    for top in tops:  # 50 more pages inside every restricted subtree, and their translations in its translation
        notes = scale.bulk_add_children(top, [StandardPage(title=f"Note {n}", slug=f"note-{n}") for n in range(50)],
                                        top.first_published_at)
        for translated_top in top.get_translations():
            code = translated_top.locale.language_code
            scale.bulk_add_children(translated_top, [scale._PageBuilder._translation_of(note, code) for note in notes],
                                    top.first_published_at)

    assert rows_read_by_the_gate() == before
    assert privacy._closed_paths(privacy.Viewer.anonymous()) == closed_before
