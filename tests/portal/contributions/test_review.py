"""The secretariat reviews: who submitted and who has not, side by side with the previous period, approve or
return with a comment the submitter sees and is emailed, the audit log, and the deadline reminders."""

import datetime

from django.core import mail
from django.urls import reverse

from wagtail.models import ModelLogEntry

import pytest

from portal.contributions.models import ReminderSent, Submission
from portal.contributions.services import submissions as workflow
from portal.contributions.tasks import send_deadline_reminders
from tests.portal.contributions.factories import ReportingPeriodFactory, hotline, member_of_org, submitter_for

pytestmark = pytest.mark.django_db

FIGURES = {"reports_received": "1200", "reports_illegal": "300", "items_removed": "280",
           "removed_within_3_days": "250"}


@pytest.fixture
def period(db):
    return ReportingPeriodFactory(year=2026, quarter=None, deadline=datetime.date(2026, 3, 31))


@pytest.fixture
def alpha(db):
    return hotline("Alpha Hotline")


@pytest.fixture
def alpha_submitter(alpha):
    return submitter_for(alpha, first_name="Ana", last_name="Alpha", email="ana@alpha.example")


def submitted(period, organisation, user, **changes):
    return workflow.submit(user, period, organisation, {**FIGURES, **changes})


def test_the_overview_shows_who_submitted_and_who_has_not(admin_client, period, alpha, alpha_submitter):
    hotline("Beta Hotline")
    submitted(period, alpha, alpha_submitter)
    html = admin_client.get(reverse("reporting_periods:review", args=[period.pk])).content.decode()
    assert "1 of 2" in html
    assert "Alpha Hotline" in html and "Submitted, awaiting review" in html and "by Ana Alpha" in html
    assert "Beta Hotline" in html and "not started" in html


def test_only_reviewers_reach_the_review(client, period, alpha, alpha_submitter):
    client.force_login(alpha_submitter)
    response = client.get(reverse("reporting_periods:review", args=[period.pk]))
    assert response.status_code in {302, 403}
    submission = submitted(period, alpha, alpha_submitter)
    response = client.post(reverse("reporting_periods:submission", args=[period.pk, submission.pk]),
                           {"decision": "approve"})
    assert response.status_code in {302, 403}
    submission.refresh_from_db()
    assert submission.status == "submitted"


def test_figures_side_by_side_with_the_previous_period(admin_client, period, alpha, alpha_submitter):
    before = ReportingPeriodFactory(year=2025, quarter=None)
    Submission.objects.create(period=before, organisation=alpha, version=1, status="approved",
                              values={"reports_received": 1000, "reports_illegal": 250})
    submission = submitted(period, alpha, alpha_submitter)
    html = admin_client.get(reverse("reporting_periods:submission", args=[period.pk, submission.pk])).content.decode()
    assert "2025 (approved)" in html
    assert "\u00d71.20" in html  # 1200 against 1000


def test_return_with_a_comment_the_submitter_sees_and_is_emailed(admin_client, client, committed, period, alpha,
                                                                 alpha_submitter, admin_user):
    submission = submitted(period, alpha, alpha_submitter)
    url = reverse("reporting_periods:submission", args=[period.pk, submission.pk])
    response = admin_client.post(url, {"decision": "return", "comment": ""})
    assert response.status_code == 400 and "Say what needs correcting" in response.content.decode()

    committed(admin_client.post, url, {"decision": "return", "comment": "Items removed looks like last year's."})
    submission.refresh_from_db()
    assert submission.status == "returned" and submission.reviewed_by == admin_user
    assert [m.to for m in mail.outbox] == [["ana@alpha.example"]]
    assert "returned" in mail.outbox[0].subject
    assert "Items removed looks like last year's." in mail.outbox[0].body
    assert ModelLogEntry.objects.for_instance(submission).filter(action="contributions.submission.return").exists()

    client.force_login(alpha_submitter)
    page = client.get(reverse("contributions:period", args=[period.pk])).content.decode()
    assert "Returned for correction" in page and "Items removed looks like last year&#x27;s." in page

    corrected = submitted(period, alpha, alpha_submitter, items_removed="290")
    assert corrected.version == 2
    assert list(Submission.objects.order_by("version").values_list("status", flat=True)) == ["returned", "submitted"]


def test_approve_emails_and_cannot_be_decided_twice(admin_client, committed, period, alpha, alpha_submitter):
    submission = submitted(period, alpha, alpha_submitter)
    url = reverse("reporting_periods:submission", args=[period.pk, submission.pk])
    committed(admin_client.post, url, {"decision": "approve"})
    submission.refresh_from_db()
    assert submission.status == "approved"
    assert "approved" in mail.outbox[0].subject
    response = admin_client.post(url, {"decision": "return", "comment": "Too late"})
    assert response.status_code == 400 and "only a submitted version" in response.content.decode()
    submission.refresh_from_db()
    assert submission.status == "approved" and len(mail.outbox) == 1


def test_a_later_approved_correction_supersedes_the_earlier_approval(period, alpha, alpha_submitter, admin_user):
    first = submitted(period, alpha, alpha_submitter)
    workflow.decide(first.pk, admin_user, approve=True)
    second = submitted(period, alpha, alpha_submitter, reports_illegal="310")
    first.refresh_from_db()
    assert first.status == "approved"  # stays the approved figures until the correction is approved
    workflow.decide(second.pk, admin_user, approve=True)
    first.refresh_from_db()
    assert (first.status, first.values["reports_illegal"]) == ("superseded", 300)


# --- Reminders ---------------------------------------------------------------------------------------------


def test_reminders_before_the_deadline_and_on_it_once_each(period, alpha, alpha_submitter, settings):
    settings.CONTRIBUTIONS_REMINDER_DAYS = 7
    beta = hotline("Beta Hotline", contact_email="contact@beta.example")  # no submitter: its contact is told
    gamma = hotline("Gamma Hotline")
    submitted(period, gamma, submitter_for(gamma))  # has submitted: never reminded

    assert send_deadline_reminders("2026-03-23") == 0  # eight days before: nothing yet
    assert send_deadline_reminders("2026-03-24") == 2
    assert send_deadline_reminders("2026-03-24") == 0  # a second run the same day sends nothing
    assert sorted(m.to[0] for m in mail.outbox) == ["ana@alpha.example", "contact@beta.example"]
    assert "due soon" in mail.outbox[0].subject and "31 March 2026" in mail.outbox[0].body

    submitted(period, alpha, alpha_submitter)
    assert send_deadline_reminders("2026-03-31") == 1  # on the day: only Beta has not submitted
    assert send_deadline_reminders("2026-03-31") == 0
    assert mail.outbox[-1].to == ["contact@beta.example"] and "due today" in mail.outbox[-1].subject
    assert set(ReminderSent.objects.values_list("organisation__name", "kind")) == {
        ("Alpha Hotline", "before"), ("Beta Hotline", "before"), ("Beta Hotline", "deadline")}
    del beta


def test_a_failed_send_is_not_recorded_so_the_next_run_retries(period, alpha, alpha_submitter, settings):
    settings.EMAIL_BACKEND = "tests.portal.contributions.test_review.FailingBackend"
    with pytest.raises(OSError):
        send_deadline_reminders("2026-03-31")
    assert not ReminderSent.objects.exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_deadline_reminders("2026-03-31") == 1


def test_closed_periods_send_no_reminders(period, alpha, alpha_submitter):
    period.closed = True
    period.save()
    assert send_deadline_reminders("2026-03-31") == 0


def test_members_of_other_organisations_are_not_reminded(period, alpha, alpha_submitter):
    member_of_org(alpha, email="reader@alpha.example")  # a member without the role
    send_deadline_reminders("2026-03-31")
    assert [m.to for m in mail.outbox] == [["ana@alpha.example"]]


class FailingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("mail server down")
