"""The contributions demo: an open period with some hotlines submitted and some not, a past closed period."""

import io

import pytest

from portal.contributions.models import ReportingPeriod, Submission, SubmitterRole
from portal.demo import contributions as demo
from portal.demo import members as members_demo
from tests.portal.members.factories import sector

pytestmark = pytest.mark.django_db


def test_the_demo_seeds_an_open_and_a_past_period_and_runs_again_unchanged():
    for slug in ("hotline", "ngo", "industry", "law-enforcement", "government"):
        sector(slug)
    members_demo.seed(io.StringIO())
    out = io.StringIO()
    demo.seed(out)
    open_period = ReportingPeriod.objects.get(closed=False)
    past = ReportingPeriod.objects.get(closed=True)
    hotlines = 3  # two from the members demo and one more
    assert Submission.objects.filter(period=past, status="approved").count() == hotlines
    statuses = sorted(Submission.objects.filter(period=open_period).values_list("status", flat=True))
    assert statuses == ["approved", "submitted"]
    demo_member = SubmitterRole.objects.get(user__username="demo-hotline")
    assert not Submission.objects.filter(period=open_period, organisation=demo_member.organisation).exists()
    assert "2 of 3 hotlines submitted" in out.getvalue()

    counts = (ReportingPeriod.objects.count(), Submission.objects.count(), SubmitterRole.objects.count())
    demo.seed(io.StringIO())
    assert (ReportingPeriod.objects.count(), Submission.objects.count(), SubmitterRole.objects.count()) == counts
