"""A hotline's statistics submitter enters figures in the browser (a validation error first), submits them;
the secretariat returns them with a comment in the admin; the submitter is emailed and sees the comment."""

import re

from django.urls import reverse

from playwright.sync_api import expect

from portal.contributions.models import ReportingPeriod, Submission
from portal.demo.management.commands.seed_demo import EDITOR_PASSWORD, EDITOR_USERNAME
from tests.e2e.conftest import email_text, fresh_page
from tests.e2e.test_member_journey import sign_in

FIGURES = {"Reports received": "4 600", "Reports assessed as illegal": "2100", "Items removed": "1700",
           "Removed within 3 days": "1500", "Removed in 4 to 7 days": "150", "Removed after more than 7 days": "50"}


def test_a_submitter_submits_after_an_error_and_the_secretariat_returns_it(site, page, new_context):
    period = ReportingPeriod.objects.get(closed=False)
    sign_in(page, site, "demo-hotline")
    page.get_by_role("link", name="Your organisation's figures").click()
    page.get_by_role("link", name=period.label).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Figures for {period.label}")
    # The definition is beside the field it explains.
    expect(page.get_by_text("Public reports received by hotlines.")).to_be_visible()

    for label, value in FIGURES.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("Reports assessed as illegal", exact=True).fill("46000")  # more than received
    page.get_by_role("button", name="Submit for review").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Nothing was saved")
    expect(alert).to_contain_text('"Reports assessed as illegal": 46,000 is more than "Reports received" (4,600)')
    expect(page.get_by_label("Reports assessed as illegal", exact=True)).to_have_attribute("aria-invalid", "true")

    page.get_by_label("Reports assessed as illegal", exact=True).fill("2100")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_role("status").first).to_contain_text("was submitted")
    submission = Submission.objects.get(period=period, organisation__name="Northern Lights Hotline")
    assert submission.status == "submitted" and submission.values["reports_received"] == 4600

    # The secretariat (the demo editor) sees it beside the previous period and returns it with a comment.
    admin = fresh_page(new_context)
    admin.goto(site.absolute("/admin/login/"))
    admin.locator("#id_username").fill(EDITOR_USERNAME)
    admin.locator("#id_password").fill(EDITOR_PASSWORD)
    admin.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    admin.goto(site.absolute(reverse("reporting_periods:review", args=[period.pk])))
    expect(admin.get_by_role("main")).to_contain_text("Northern Lights Hotline")
    admin.get_by_role("link", name="Northern Lights Hotline").click()
    expect(admin.get_by_role("main")).to_contain_text(f"{period.previous_label} (approved)")
    admin.get_by_label("Comment to the submitter").fill("Items removed looks like last year's figure.")
    admin.get_by_role("button", name="Return for correction").click()
    expect(admin.get_by_role("main")).to_contain_text("were returned")

    message = site.wait_for_email("demo-hotline@example.org", "returned for correction")
    assert "Items removed looks like last year's figure." in email_text(message)
    page.reload()
    expect(page.get_by_role("main")).to_contain_text("Returned for correction")
    expect(page.get_by_role("main")).to_contain_text("Items removed looks like last year's figure.")
