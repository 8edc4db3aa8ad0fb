"""A statistics submitter enters figures in the members' area: form, draft, submit, CSV, versions, roles."""

from django.urls import reverse

from wagtail.models import ModelLogEntry

import pytest

from portal.contributions.models import Submission, SubmitterRole
from tests.portal.contributions.factories import ReportingPeriodFactory, hotline, member_of_org, submitter_for

pytestmark = pytest.mark.django_db

GOOD = {"value-reports_received": "1 200", "value-reports_illegal": "300", "value-items_removed": "280",
        "value-removed_within_3_days": "250"}


@pytest.fixture
def period(db):
    return ReportingPeriodFactory(year=2026, quarter=None)


@pytest.fixture
def org(db):
    return hotline("Fictional Hotline NL", contact_email="contact@hotline.example")


@pytest.fixture
def submitter(org, client):
    user = submitter_for(org, first_name="Sam")
    client.force_login(user)
    return user


def test_the_form_shows_each_measure_with_its_definition_unit_and_caveat(client, submitter, period):
    response = client.get(reverse("contributions:period", args=[period.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Reports assessed as illegal" in html
    assert "Reports that analysts assessed as child sexual abuse material" in html  # definition
    assert "Not: Assessed under the law of the hotline" in html  # caveat
    assert "At most “Reports received”" in html


def test_a_member_without_the_role_is_told_who_can_grant_it(client, org, period):
    client.force_login(member_of_org(org))
    response = client.get(reverse("contributions:period", args=[period.pk]))
    assert response.status_code == 403
    assert "contact person can grant it" in response.content.decode()
    assert client.get(reverse("contributions:template", args=[period.pk])).status_code == 403


def test_a_draft_then_a_submission(client, submitter, period, org):
    url = reverse("contributions:period", args=[period.pk])
    response = client.post(url, {"value-reports_received": "1200", "action": "draft"})
    assert response.status_code == 302
    draft = Submission.objects.get()
    assert (draft.status, draft.values, draft.version) == ("draft", {"reports_received": 1200}, 1)

    response = client.post(url, {**GOOD, "action": "submit"}, follow=True)
    assert "version 1 of your figures for 2026 was submitted" in response.content.decode()
    submission = Submission.objects.get()
    assert submission.status == "submitted" and submission.submitted_by == submitter
    assert submission.values == {"reports_received": 1200, "reports_illegal": 300, "items_removed": 280,
                                 "removed_within_3_days": 250}
    actions = list(ModelLogEntry.objects.for_instance(submission).values_list("action", flat=True))
    assert set(actions) == {"contributions.submission.draft", "contributions.submission.submit"}


def test_an_invalid_submission_names_the_field_and_saves_nothing(client, submitter, period):
    url = reverse("contributions:period", args=[period.pk])
    response = client.post(url, {**GOOD, "value-reports_illegal": "5000", "value-items_removed": "lots",
                                 "action": "submit"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was saved" in html
    assert "&quot;Items removed&quot;: &quot;lots&quot; is not a whole number" in html
    assert "5,000 is more than &quot;Reports received&quot; (1,200)" in html
    assert 'value="lots"' in html  # what was typed is kept for correcting
    assert not Submission.objects.exists()


def test_a_jump_against_the_previous_period_asks_for_a_comment_not_a_refusal(client, submitter, period, org):
    previous = ReportingPeriodFactory(year=2025, quarter=None)
    Submission.objects.create(period=previous, organisation=org, version=1, status="approved",
                              values={"reports_received": 100, "reports_illegal": 290, "items_removed": 270,
                                      "removed_within_3_days": 240})
    url = reverse("contributions:period", args=[period.pk])
    response = client.post(url, {**GOOD, "action": "submit"})
    assert response.status_code == 400
    assert "1,200 against 100 in the previous period is a change of more than 3 times" in response.content.decode()
    assert not Submission.objects.filter(period=period).exists()
    response = client.post(url, {**GOOD, "comment-reports_received": "A new reporting app in schools.",
                                 "action": "submit"})
    assert response.status_code == 302
    assert Submission.objects.get(period=period).comments == {"reports_received": "A new reporting app in schools."}


def test_correcting_a_submission_makes_a_new_version_and_keeps_the_earlier_one(client, submitter, period):
    url = reverse("contributions:period", args=[period.pk])
    client.post(url, {**GOOD, "action": "submit"})
    client.post(url, {**GOOD, "value-reports_illegal": "310", "action": "submit"})
    versions = list(Submission.objects.order_by("version").values_list("version", "status", "values__reports_illegal"))
    assert versions == [(1, "superseded", 300), (2, "submitted", 310)]
    html = client.get(url).content.decode()
    assert "Version 1" in html and "Replaced by a later version" in html


def test_the_csv_template_round_trip(client, submitter, period):
    template = client.get(reverse("contributions:template", args=[period.pk]))
    assert template["Content-Type"].startswith("text/csv")
    lines = template.content.decode().splitlines()
    assert lines[0] == "measure,label,unit,definition,caveat,value,comment"
    filled = "\n".join(["measure,value,comment", "reports_received,1200,", "reports_illegal,300,",
                        "items_removed,280,", "removed_within_3_days,250,"])
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("figures.csv", filled.encode(), content_type="text/csv")
    response = client.post(reverse("contributions:upload", args=[period.pk]), {"file": upload, "action": "submit"})
    assert response.status_code == 302
    submission = Submission.objects.get()
    assert submission.source == "csv" and submission.status == "submitted"


def test_a_bad_csv_names_the_rows_and_saves_nothing(client, submitter, period):
    from django.core.files.uploadedfile import SimpleUploadedFile

    filled = "measure,value\nreports_received,1200\nreports_illegal,3000\nitems_removed,12.5\nfoo,1\n"
    upload = SimpleUploadedFile("figures.csv", filled.encode(), content_type="text/csv")
    response = client.post(reverse("contributions:upload", args=[period.pk]), {"file": upload, "action": "submit"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "Row 5, &quot;foo&quot;: is not one of the measures" in html
    assert "Row 3, &quot;Reports assessed as illegal&quot;: 3,000 is more than" in html
    assert "Row 4, &quot;Items removed&quot;: &quot;12.5&quot; is not a whole number" in html
    assert "&quot;Removed within 3 days&quot;: a figure is needed" in html
    assert not Submission.objects.exists()


def test_an_oversized_or_binary_upload_is_refused_clearly(client, submitter, period, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.CONTRIBUTIONS_MAX_UPLOAD_BYTES = 100
    upload = SimpleUploadedFile("big.csv", b"measure,value\n" + b"x" * 200)
    response = client.post(reverse("contributions:upload", args=[period.pk]), {"file": upload})
    assert response.status_code == 400 and "larger than" in response.content.decode()
    settings.CONTRIBUTIONS_MAX_UPLOAD_BYTES = 200_000
    upload = SimpleUploadedFile("sheet.xlsx", b"PK\x03\x04\x00\x00binary\xff\xfe")
    response = client.post(reverse("contributions:upload", args=[period.pk]), {"file": upload})
    assert response.status_code == 400 and "UTF-8" in response.content.decode()
    assert not Submission.objects.exists()


def test_a_member_cannot_submit_for_another_organisation_even_holding_its_role(client, period, org):
    other = hotline("Other Hotline")
    user = member_of_org(org)
    SubmitterRole.objects.create(user=user, organisation=other)  # stale role, e.g. after moving organisation
    client.force_login(user)
    assert client.post(reverse("contributions:period", args=[period.pk]), {**GOOD, "action": "submit"}).status_code \
        == 403
    assert not Submission.objects.exists()


def test_a_closed_period_takes_no_figures(client, submitter, period):
    period.closed = True
    period.save()
    response = client.post(reverse("contributions:period", args=[period.pk]), {**GOOD, "action": "submit"})
    assert response.status_code == 302 and not Submission.objects.exists()


def test_the_contact_person_grants_and_removes_the_role(client, org, period):
    contact = member_of_org(org, email="contact@hotline.example")
    colleague = member_of_org(org, first_name="Kim", last_name="Example")
    client.force_login(contact)
    page = client.get(reverse("contributions:submitters"))
    assert "Make Kim Example a submitter" in page.content.decode()
    client.post(reverse("contributions:change_submitter"), {"user": colleague.pk, "grant": "1"})
    assert SubmitterRole.objects.filter(user=colleague, organisation=org).exists()
    assert ModelLogEntry.objects.filter(action="contributions.role.grant").exists()
    client.post(reverse("contributions:change_submitter"), {"user": colleague.pk, "grant": "0"})
    assert not SubmitterRole.objects.filter(user=colleague).exists()


def test_only_the_contact_grants_and_only_to_their_own_members(client, org):
    outsider = member_of_org(hotline("Elsewhere"))
    colleague = member_of_org(org)
    client.force_login(colleague)
    assert client.get(reverse("contributions:submitters")).status_code == 403
    assert client.post(reverse("contributions:change_submitter"), {"user": colleague.pk, "grant": "1"}).status_code \
        == 403
    client.force_login(member_of_org(org, email="contact@hotline.example"))
    client.post(reverse("contributions:change_submitter"), {"user": outsider.pk, "grant": "1"})
    assert not SubmitterRole.objects.exists()


def test_the_dashboard_links_to_the_figures(client, submitter):
    assert reverse("contributions:index") in client.get(reverse("members:dashboard")).content.decode()


@pytest.mark.parametrize("value", ["abc", "", "1e5", "٣", "9" * 40])
def test_a_hostile_member_id_is_a_message_not_an_error(client, org, value):
    client.force_login(member_of_org(org, email="contact@hotline.example"))
    response = client.post(reverse("contributions:change_submitter"), {"user": value, "grant": "1"}, follow=True)
    assert response.status_code == 200 and "Choose a member of your organisation." in response.content.decode()


@pytest.mark.parametrize("value", ["1" * 5000, "\u202e123", "12\x00", "1e3", "0x10", "١٢٣"])
def test_hostile_figures_are_refused_with_the_field_named(client, submitter, period, value):
    response = client.post(reverse("contributions:period", args=[period.pk]),
                           {**GOOD, "value-reports_received": value, "action": "draft"})
    assert response.status_code in {400}
    assert "&quot;Reports received&quot;" in response.content.decode()
    assert not Submission.objects.exists()
