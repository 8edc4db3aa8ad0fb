"""Earlier versions of corrected figures stay downloadable: the statistics page lists every released version of
a period with what changed, each as CSV; a version not released yet, or of a dataset the viewer may not read,
is a 404 like any unknown URL."""

import csv
import datetime
import io

from django.urls import reverse
from django.utils import timezone

import pytest

from portal.contributions.services import submissions as workflow
from portal.contributions.services.aggregation import aggregate
from tests.factories import UserFactory
from tests.portal.contributions.factories import ReportingPeriodFactory, hotline, submitter_for
from tests.portal.stats.conftest import add_observation, figures, make_dataset, make_stats_page

pytestmark = pytest.mark.django_db

VALUES = {"reports_illegal": "1000", "items_removed": "900", "removed_within_3_days": "850"}


@pytest.fixture
def corrected(admin_user):
    """2026 released as version 1 (5000 reports), corrected after release as version 2 (5100)."""
    dataset = make_dataset("network", title="Network statistics")
    add_observation(dataset, 2014, **figures(1200, 600, 500, 455, 30, 15))
    period = ReportingPeriodFactory(year=2026)
    organisation = hotline("Version Hotline", country="NL")
    submitter = submitter_for(organisation)
    first = workflow.submit(submitter, period, organisation, {"reports_received": "5000", **VALUES})
    workflow.decide(first.pk, admin_user, approve=True)
    one = aggregate(period, dataset, admin_user)
    second = workflow.submit(submitter, period, organisation, {"reports_received": "5100", **VALUES})
    workflow.decide(second.pk, admin_user, approve=True)
    two = aggregate(period, dataset, admin_user)
    return dataset, period, one, two


def rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_page_lists_every_version_with_what_changed_and_each_downloads(client, home, corrected):
    dataset, _period, one, two = corrected
    html = client.get(make_stats_page(home, dataset).url).content.decode()
    assert "Versions of the figures" in html
    assert "version 2, released" in html and "(current)" in html and "reports_received 5000 → 5100" in html
    assert "version 1, released" in html and "first release" in html
    old = rows(client.get(reverse("dataset_version_csv", args=[one.pk])))
    new = rows(client.get(reverse("dataset_version_csv", args=[two.pk])))
    assert old[0][:4] == ["period", "country", "organisation", "reports_received"]
    network = {tuple(row[:3]): row for row in old[1:]}[("2026", "", "")]
    assert network[3] == "5000" and network[-1] == ""  # the first release changed nothing
    network = {tuple(row[:3]): row for row in new[1:]}[("2026", "", "")]
    assert network[3] == "5100" and "5000 → 5100" in network[-1] and network[-2].startswith("Figures from 1 of")
    # The dataset itself now has version 2's figures.
    assert "5100" in b"".join(client.get(dataset.get_csv_url()).streaming_content).decode()


def test_a_scheduled_version_is_not_downloadable_before_its_release(client, corrected, admin_user):
    dataset, period, _one, _two = corrected
    scheduled = aggregate(period, dataset, admin_user, release_at=timezone.now() + datetime.timedelta(hours=1))
    for user in (None, UserFactory(), UserFactory(is_superuser=True, is_staff=True)):
        if user:
            client.force_login(user)
        assert client.get(reverse("dataset_version_csv", args=[scheduled.pk])).status_code == 404
    assert client.get(reverse("dataset_version_csv", args=[999999])).status_code == 404
    assert client.post(reverse("dataset_version_csv", args=[scheduled.pk - 1])).status_code == 405


def test_versions_of_a_members_only_dataset_are_not_public(client, home, corrected):
    dataset, _period, one, _two = corrected
    dataset.restriction = dataset.LOGIN
    dataset.save()
    assert client.get(reverse("dataset_version_csv", args=[one.pk])).status_code == 404
    client.force_login(UserFactory())
    assert client.get(reverse("dataset_version_csv", args=[one.pk])).status_code == 200
