"""Embargoed figures: scheduled figures are on no channel before their release time (statistics page and its
chart CSV, dataset CSV, API, home page headline), for anyone, and on all of them together once beat runs.

The unique figure 987,654 (reports received) marks the embargoed period in every response.
"""

import datetime

from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

import pytest

from portal.contributions.models import Aggregation
from portal.contributions.services import submissions as workflow
from portal.contributions.services.aggregation import aggregate, release_due
from portal.contributions.tasks import release_due_figures
from portal.stats.models import Observation
from tests.factories import UserFactory
from tests.portal.contributions.factories import ReportingPeriodFactory, hotline, member_of_org, submitter_for
from tests.portal.members.factories import OrganisationFactory, sector
from tests.portal.stats.conftest import add_observation, figures, make_dataset, make_stats_page

pytestmark = pytest.mark.django_db

MARK, MARK_PLAIN = "987,654", "987654"


@pytest.fixture
def dataset(db):
    """A public dataset with network figures for 2013 and 2014."""
    ds = make_dataset("network", title="Network statistics")
    add_observation(ds, 2013, **figures(1000, 500, 400, 300, 60, 40))
    add_observation(ds, 2014, **figures(1200, 600, 500, 455, 30, 15))
    return ds


@pytest.fixture
def embargoed(dataset, admin_user):
    """The public dataset of the stats tests (2013-2014), with 2026 figures scheduled an hour from now."""
    period = ReportingPeriodFactory(year=2026, measures=["reports_received", "reports_illegal", "items_removed",
                                                         "removed_within_3_days"])
    organisation = hotline("Embargo Hotline", country="NL")
    submission = workflow.submit(submitter_for(organisation), period, organisation, {
        "reports_received": MARK_PLAIN, "reports_illegal": "1000", "items_removed": "900",
        "removed_within_3_days": "850"})
    workflow.decide(submission.pk, admin_user, approve=True)
    return aggregate(period, dataset, admin_user, release_at=timezone.now() + datetime.timedelta(hours=1))


def text(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode()


def channels(client, home, dataset, stats_page):
    """Every channel's text for the current client."""
    urls = [stats_page.url, dataset.get_csv_url(), f"/api/stats/datasets/{dataset.slug}/observations/",
            "/api/stats/datasets/", home.url]
    urls += [reverse("stats:chart_csv", args=[stats_page.pk, block.id]) for block in stats_page.body]
    # Feeds (unprefixed and per language, RSS and Atom), search for the figure and the period, the sitemap.
    urls += [reverse(f"{namespace}:latest-{kind}") for namespace in ("feeds_default", "feeds")
             for kind in ("rss", "atom")]
    texts = [text(client.get(url)) for url in urls]
    # Search echoes the query: the plain figure is taken out of its answer, the formatted one would still show.
    texts += [text(client.get(f"{reverse('search')}?q={query}")).replace(MARK_PLAIN, "")
              for query in (MARK_PLAIN, "2026", "Embargo+Hotline")]
    return [*texts, text(client.get("/sitemap.xml"))]


def leaks(texts) -> list[int]:
    return [index for index, text in enumerate(texts)
            if MARK in text or MARK_PLAIN in text or '"period":"2026"' in text.replace(" ", "")]


def test_nothing_leaks_before_the_release_for_anyone(client, home, dataset, embargoed):
    stats_page = make_stats_page(home, dataset)
    assert not Observation.objects.filter(dataset=dataset, year=2026).exists()
    assert leaks(channels(client, home, dataset, stats_page)) == []  # the public
    client.force_login(UserFactory())
    # A member reads them on the statistics page only (index 0), marked as embargoed; no other channel has them.
    texts = channels(client, home, dataset, stats_page)
    assert leaks(texts) == [0] and "Embargoed until" in texts[0]
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert leaks(channels(client, home, dataset, stats_page)) == [0]  # staff too: the dataset has no such rows
    assert release_due() == 0  # not yet


def test_feeds_search_sitemap_and_email_blocks_have_nothing_before_the_release(client, home, dataset, embargoed):
    from portal.core.privacy import Viewer
    from portal.stats.services.email import render_email_dataset_bar_chart, render_email_dataset_kpis

    stats_page = make_stats_page(home, dataset)
    texts = channels(client, home, dataset, stats_page)
    feeds = texts[-8:-4]
    assert all("<rss" in feed or "<feed" in feed for feed in feeds)  # the feeds answered, and hold no figure
    assert leaks(texts) == []
    # Newsletter statistics blocks, for any audience (members included): the period does not exist yet.
    for viewer in (Viewer.anonymous(), Viewer.for_user(UserFactory()), Viewer.for_user(
            UserFactory(is_superuser=True))):
        assert render_email_dataset_kpis(dataset, viewer, period="2026") == ""
        assert MARK not in render_email_dataset_kpis(dataset, viewer)
        assert MARK not in render_email_dataset_bar_chart(dataset, viewer, measure="reports_received")


def embargo_section(html: str) -> str:
    """The statistics page's embargoed section ("" when there is none)."""
    start = html.find('class="stats-embargo"')
    return html[start:html.find("</section>", start)] if start >= 0 else ""


def test_members_read_the_figures_marked_embargoed_until_the_release_time(client, home, dataset, embargoed):
    stats_page = make_stats_page(home, dataset)
    client.force_login(member_of_org(hotline("Other Hotline", country="DE")))  # a member of another hotline
    section = embargo_section(client.get(stats_page.url).content.decode())
    when = timezone.localtime(embargoed.release_at)
    assert f"Embargoed until {when:%-d %B %Y, %H:%M}" in section
    assert "Figures for 2026" in section and MARK in section and "Embargo Hotline" in section
    assert "Figures from 1 of" in section and "94%" in section  # 850 of 900 removed within three days, computed
    assert "Network total" in section


def test_the_preview_audience_narrows_who_reads_them_early(client, home, dataset, embargoed):
    from django.contrib.auth.models import Group

    stats_page = make_stats_page(home, dataset)
    hotlines = Group.objects.get(name="Hotlines")
    embargoed.preview = Aggregation.GROUPS
    embargoed.save()
    embargoed.preview_groups.set([hotlines])
    in_group = member_of_org(hotline("Group Hotline", country="BE"))
    assert in_group.groups.filter(pk=hotlines.pk).exists()
    outsider = member_of_org(OrganisationFactory(sector=sector("industry")))  # a member of another sector
    client.force_login(outsider)
    assert leaks([client.get(stats_page.url).content.decode()]) == []
    client.force_login(in_group)
    assert MARK in embargo_section(client.get(stats_page.url).content.decode())
    embargoed.preview = Aggregation.NOBODY  # nobody before the release: not even members
    embargoed.save()
    assert leaks([client.get(stats_page.url).content.decode()]) == []


def test_a_members_only_dataset_keeps_its_embargoed_figures_from_the_public(client, home, dataset, embargoed):
    dataset.restriction = dataset.LOGIN
    dataset.save()
    stats_page = make_stats_page(home, dataset)
    assert client.get(stats_page.url).status_code in (302, 404)
    client.force_login(UserFactory())
    assert MARK in embargo_section(client.get(stats_page.url).content.decode())


def test_the_page_cache_never_hands_the_members_copy_to_the_public(client, home, dataset, embargoed, settings):
    from portal.core import cache as page_cache
    from tests.portal.core.conftest import _forget_process_copies

    settings.PAGE_CACHE_ENABLED = True
    _forget_process_copies()
    try:
        stats_page = make_stats_page(home, dataset)
        public = client.get(stats_page.url)  # stored for anonymous visitors
        assert public["X-Page-Cache"] == "miss" and MARK not in public.content.decode()
        member = Client()
        member.force_login(UserFactory())
        seen = member.get(stats_page.url)
        assert MARK in seen.content.decode() and "X-Page-Cache" not in seen
        assert "no-store" in seen["Cache-Control"] or "private" in seen["Cache-Control"]
        again = client.get(stats_page.url)
        assert again["X-Page-Cache"] == "hit" and MARK not in again.content.decode()
        assert MARK not in Client().get(stats_page.url).content.decode()
    finally:
        page_cache._local.clear()
        _forget_process_copies()


def test_after_the_release_the_embargo_note_is_gone_and_the_charts_have_the_figures(client, home, dataset, embargoed):
    stats_page = make_stats_page(home, dataset)
    with pytest.MonkeyPatch.context() as patch:
        later = timezone.now() + datetime.timedelta(hours=2)
        patch.setattr(timezone, "now", lambda: later)
        assert release_due() == 1
    html = client.get(stats_page.url).content.decode()
    assert MARK in html and "Embargoed until" not in html
    client.force_login(UserFactory())
    assert embargo_section(client.get(stats_page.url).content.decode()) == ""


def test_at_the_release_every_channel_switches_together(client, home, dataset, embargoed, warm_caches, committed):
    stats_page = make_stats_page(home, dataset)
    before = channels(client, home, dataset, stats_page)  # cached copies of every page, if caching is on
    assert leaks(before) == []
    later = timezone.now() + datetime.timedelta(hours=1, minutes=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timezone, "now", lambda: later)
        assert committed(release_due) == 1  # committed: the page cache is told after the commit, as in beat
        assert committed(release_due) == 0  # a second run (or a second worker) writes nothing more
    embargoed.refresh_from_db()
    assert embargoed.released_at is not None
    after = channels(client, home, dataset, stats_page)
    # The page, the dataset CSV, the API and the home page headline (the latest year) all show 2026 now.
    assert {0, 1, 2, 4} <= set(leaks(after))


def test_a_correction_before_the_release_replaces_the_scheduled_version(dataset, embargoed, admin_user):
    correction = aggregate(embargoed.period, dataset, admin_user, release_at=embargoed.release_at)
    with pytest.MonkeyPatch.context() as patch:
        later = timezone.now() + datetime.timedelta(hours=2)
        patch.setattr(timezone, "now", lambda: later)
        assert release_due() == 1
    embargoed.refresh_from_db()
    correction.refresh_from_db()
    assert embargoed.released_at is None and correction.released_at is not None


def test_release_runs_every_minute_in_beat(db):
    entry = settings.CELERY_BEAT_SCHEDULE["contributions-release-figures"]
    assert entry["task"] == release_due_figures.name and entry["schedule"] == 60.0


def test_the_review_page_schedules_a_release(admin_client, dataset, embargoed):
    period = embargoed.period
    response = admin_client.post(reverse("reporting_periods:aggregate", args=[period.pk]),
                                 {"dataset": dataset.pk, "release_at": "2099-01-01T09:00"}, follow=True)
    html = response.content.decode()
    assert "until then no channel shows them" in html and "embargoed until 1 Jan 2099" in html
    assert Aggregation.objects.filter(released_at__isnull=True).count() == 2
    response = admin_client.post(reverse("reporting_periods:aggregate", args=[period.pk]),
                                 {"dataset": dataset.pk, "release_at": "next tuesday"}, follow=True)
    assert "Enter a valid date/time" in response.content.decode()
