"""Approved submissions become the period's observations with provenance: per hotline, per country, network
total; counts only (shares computed from them); coverage; a correction is a new version with what changed."""

from django.urls import reverse

import pytest

from portal.contributions.models import Aggregation, Submission
from portal.contributions.services import submissions as workflow
from portal.contributions.services.aggregation import aggregate
from portal.stats.models import Dataset, Measure, Observation
from portal.stats.services.kpis import share_removed_within_three_days
from tests.portal.contributions.factories import ReportingPeriodFactory, hotline, submitter_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def period(db):
    Measure.objects.create(code="share_fast_reported", label="Share the hotline reports as fast", kind="percent")
    return ReportingPeriodFactory(year=2026, measures=["reports_received", "items_removed", "removed_within_3_days",
                                                       "share_fast_reported"])


@pytest.fixture
def dataset(db):
    return Dataset.objects.create(slug="network-figures", title="Network figures", restriction=Dataset.LOGIN)


def approved(period, organisation, admin, **values):
    user = submitter_for(organisation)
    submission = workflow.submit(user, period, organisation, {k: str(v) for k, v in values.items()})
    return workflow.decide(submission.pk, admin, approve=True)


def test_rows_per_hotline_country_and_network_with_coverage(period, dataset, admin_user):
    nl_a, nl_b, de = hotline("NL A", country="NL"), hotline("NL B", country="NL"), hotline("DE A", country="DE")
    hotline("Not yet")  # expected but not approved: coverage says 3 of 4
    approved(period, nl_a, admin_user, reports_received=100, items_removed=10, removed_within_3_days=9,
             share_fast_reported="90")
    approved(period, nl_b, admin_user, reports_received=300, items_removed=90, removed_within_3_days=45,
             share_fast_reported="50")
    approved(period, de, admin_user, reports_received=50, items_removed=0, removed_within_3_days=0,
             share_fast_reported="0")
    aggregation = aggregate(period, dataset, admin_user)

    rows = {(o.country, o.organisation): o.values for o in Observation.objects.filter(dataset=dataset)}
    assert rows[("NL", "NL A")] == {"reports_received": 100, "items_removed": 10, "removed_within_3_days": 9}
    assert rows[("NL", "")] == {"reports_received": 400, "items_removed": 100, "removed_within_3_days": 54}
    assert rows[("", "")] == {"reports_received": 450, "items_removed": 100, "removed_within_3_days": 54}
    # The network share comes from the counts (54 of 100), not the mean of the reported shares (46.7 %).
    assert share_removed_within_three_days(rows[("", "")]) == 0.54
    assert aggregation.coverage == "figures from 3 of 4 member hotlines"
    assert aggregation.submissions.count() == 3


def test_a_correction_is_a_new_version_recording_what_changed(period, dataset, admin_user):
    organisation = hotline("Only Hotline", country="PT")
    approved(period, organisation, admin_user, reports_received=100, items_removed=10, removed_within_3_days=9,
             share_fast_reported="90")
    first = aggregate(period, dataset, admin_user)
    approved(period, organisation, admin_user, reports_received=120, items_removed=10, removed_within_3_days=9,
             share_fast_reported="90")
    second = aggregate(period, dataset, admin_user)
    assert (first.version, second.version) == (1, 2)
    assert "Only Hotline: reports_received 100 → 120" in second.changes
    assert "Network total: reports_received 100 → 120" in second.changes
    first.refresh_from_db()
    assert first.snapshot[-1]["values"]["reports_received"] == 100  # the earlier version keeps its figures
    assert Observation.objects.filter(dataset=dataset).count() == 3  # replaced, not added to
    assert Observation.objects.get(dataset=dataset, country="", organisation="").values["reports_received"] == 120


def test_other_periods_in_the_dataset_are_left_alone(period, dataset, admin_user):
    Observation.objects.create(dataset=dataset, year=2025, quarter=None, period_key=20250,
                               values={"reports_received": 7})
    approved(period, hotline("H", country="NL"), admin_user, reports_received=1, items_removed=1,
             removed_within_3_days=1, share_fast_reported="100")
    aggregate(period, dataset, admin_user)
    assert Observation.objects.get(dataset=dataset, year=2025).values == {"reports_received": 7}


def test_the_secretariat_writes_the_figures_from_the_review_page(admin_client, period, dataset, admin_user):
    approved(period, hotline("H", country="NL"), admin_user, reports_received=5, items_removed=1,
             removed_within_3_days=1, share_fast_reported="100")
    response = admin_client.post(reverse("reporting_periods:aggregate", args=[period.pk]), {"dataset": dataset.pk},
                                 follow=True)
    html = response.content.decode()
    assert "figures from 1 of 1 member hotlines" in html
    assert Aggregation.objects.get().created_by == admin_user
    assert Submission.objects.get().aggregations.count() == 1


def test_members_cannot_write_figures(client, period, dataset):
    organisation = hotline("H")
    client.force_login(submitter_for(organisation))
    response = client.post(reverse("reporting_periods:aggregate", args=[period.pk]), {"dataset": dataset.pk})
    assert response.status_code in {302, 403}
    assert not Observation.objects.exists()


def test_readers_see_the_coverage_and_what_changed_after_release(client, home, period, admin_user):
    from tests.portal.stats.conftest import make_stats_page

    public = Dataset.objects.create(slug="public-figures", title="Public figures")
    organisation = hotline("Only Hotline", country="PT")
    hotline("Quiet Hotline")
    approved(period, organisation, admin_user, reports_received=100, items_removed=10, removed_within_3_days=9,
             share_fast_reported="90")
    aggregate(period, public, admin_user)
    api = client.get(f"/api/stats/datasets/{public.slug}/observations/").json()
    assert api["notes"]["2026"] == {"coverage": "Figures from 1 of 2 member hotlines", "correction": ""}

    approved(period, organisation, admin_user, reports_received=120, items_removed=10, removed_within_3_days=9,
             share_fast_reported="90")
    aggregate(period, public, admin_user)
    note = client.get(f"/api/stats/datasets/{public.slug}/observations/").json()["notes"]["2026"]
    assert "Only Hotline: reports_received 100 → 120" in note["correction"]
    html = client.get(make_stats_page(home, public).url).content.decode()
    assert "Figures from 1 of 2 member hotlines" in html and "Changed after release:" in html
