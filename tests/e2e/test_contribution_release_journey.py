"""The whole contribution journey across several hotlines, in Chromium against the live demo site.

The secretariat opens a period in the admin; two hotlines' submitters submit (one refused first for a figure
larger than the one it is limited by, one returned once with a comment and corrected); the deadline reminder
reaches the third hotline's submitter, once; the secretariat approves both and schedules the release with a
newsletter issue. Members (of another hotline too) read the figures marked "embargoed until …"; the public sees
them nowhere (page, API, home page). At the release (beat's task, run here with its clock at the release time)
the public page, the API and the home page switch together and the issue reaches its subscriber with the figures.
"""

import datetime
import json
import re

from django.urls import reverse
from django.utils import timezone

from playwright.sync_api import expect

from newsletter.models import NewsletterIndexPage, NewsletterIssue, Subscriber
from portal.contributions.models import Aggregation, ReportingPeriod, Submission, SubmitterRole
from portal.contributions.services.aggregation import release_due, send_waiting_newsletters
from portal.contributions.tasks import send_deadline_reminders
from portal.demo.management.commands.seed_demo import EDITOR_PASSWORD, EDITOR_USERNAME
from portal.demo.members import DEMO_PASSWORD
from portal.members.models import Membership, Organisation
from portal.stats.models import Dataset, StatisticsPage
from tests.e2e.conftest import email_text, fresh_page
from tests.e2e.test_member_journey import sign_in

NORTH = "Northern Lights Hotline"  # the demo hotline member's organisation (demo-hotline submits for it)
TAGUS = "Tagus Reporting Hotline"
DANUBE = "Danube Reporting Point"
NORTH_FIGURES = {"Reports received": "4 600", "Reports assessed as illegal": "2100", "Items removed": "1700",
                 "Removed within 3 days": "1500", "Removed in 4 to 7 days": "150",
                 "Removed after more than 7 days": "50"}
TAGUS_FIGURES = {"Reports received": "3300", "Reports assessed as illegal": "1300", "Items removed": "1100",
                 "Removed within 3 days": "900", "Removed in 4 to 7 days": "150",
                 "Removed after more than 7 days": "50"}
TOTAL_RECEIVED = "7,900"  # 4,600 + 3,300: the network total once both are released


def submitter(username: str, organisation_name: str):
    """A member of the hotline holding the statistics submitter role (the organisation's contact could grant
    it in the members' area; the demo has one submitter only)."""
    from django.contrib.auth import get_user_model

    from portal.members.services import sync_member_groups

    organisation = Organisation.objects.get(name=organisation_name)
    user = get_user_model().objects.create_user(username, f"{username}@example.org", DEMO_PASSWORD,
                                                first_name=username.title())
    Membership.objects.create(user=user, organisation=organisation)
    sync_member_groups(user, organisation)
    SubmitterRole.objects.create(user=user, organisation=organisation)
    return user


def admin_page(site, new_context):
    admin = fresh_page(new_context)
    admin.goto(site.absolute(reverse("wagtailadmin_login")))
    admin.locator("#id_username").fill(EDITOR_USERNAME)
    admin.locator("#id_password").fill(EDITOR_PASSWORD)
    admin.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    expect(admin.get_by_role("heading", level=1).first).to_be_visible()
    return admin


def enter(page, figures: dict[str, str]) -> None:
    for label, value in figures.items():
        page.get_by_label(label, exact=True).fill(value)


def open_period_form(page, label: str) -> None:
    page.get_by_role("banner").get_by_role("link", name="Members\u2019 area").click()
    page.get_by_role("link", name="Your organisation's figures").click()
    page.get_by_role("link", name=label).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Figures for {label}")


def review(admin, site, period, organisation: str, *, approve: bool, comment: str = "") -> None:
    admin.goto(site.absolute(reverse("reporting_periods:review", args=[period.pk])))
    admin.get_by_role("link", name=organisation).click()
    if comment:
        admin.get_by_label("Comment to the submitter").fill(comment)
    admin.get_by_role("button", name="Approve" if approve else "Return for correction").click()
    expect(admin.get_by_role("main")).to_contain_text("were approved" if approve else "were returned")


def api_text(context, site, dataset) -> str:
    return context.request.get(site.absolute(f"/api/stats/datasets/{dataset.slug}/observations/?page_size=1000")
                               ).text()


def test_several_hotlines_submit_the_secretariat_reviews_and_the_figures_are_released_at_the_embargo(
        site, page, new_context):
    year = timezone.localdate().year
    deadline = timezone.localdate() + datetime.timedelta(days=7)  # the "before" reminder is due today
    submitter("tagus-figures", TAGUS)
    danube = submitter("danube-figures", DANUBE)
    dataset = Dataset.objects.get(pk=StatisticsPage.objects.get().dataset_id)  # the demo's public dataset
    stats_page = StatisticsPage.objects.get()
    reader = Subscriber.objects.create(email="figures-reader@example.org", status=Subscriber.Status.SUBSCRIBED)
    archive = NewsletterIndexPage.objects.first()
    issue = NewsletterIssue(title=f"Figures {year}", slug=f"figures-{year}", subject=f"The network's figures {year}",
                            preheader="Released today", intro="<p>The figures are out.</p>",
                            body=json.dumps([{"type": "statistics", "value": {
                                "dataset": dataset.pk, "style": "kpis", "measure": "items_removed",
                                "period": str(year)}}]))
    archive.add_child(instance=issue)
    issue.save_revision().publish()

    # 1. The secretariat opens the period in the admin.
    admin = admin_page(site, new_context)
    admin.goto(site.absolute(reverse("reporting_periods:add")))
    admin.locator("#id_year").fill(str(year))
    admin.locator("#id_deadline").fill(deadline.isoformat())
    admin.locator("#id_measures").select_option(label=list(NORTH_FIGURES))
    admin.locator("#id_year").click()  # closes the deadline's date picker
    admin.get_by_role("button", name="Create", exact=True).click()
    expect(admin.get_by_role("status").first).to_contain_text("created")
    period = ReportingPeriod.objects.get(year=year, quarter__isnull=True)
    assert period.opened_by.username == EDITOR_USERNAME and period.measures.count() == len(NORTH_FIGURES)

    # 2. Northern Lights: refused first (more illegal reports than received), nothing saved, then submitted.
    sign_in(page, site, "demo-hotline")
    open_period_form(page, period.label)
    enter(page, {**NORTH_FIGURES, "Reports assessed as illegal": "46000"})
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_role("alert")).to_contain_text('"Reports assessed as illegal": 46,000 is more than')
    assert not Submission.objects.filter(period=period).exists()
    page.get_by_label("Reports assessed as illegal", exact=True).fill("2100")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_role("status").first).to_contain_text("was submitted")

    # 3. Tagus submits; the secretariat returns it with a comment; the submitter is emailed, corrects, resubmits.
    tagus = fresh_page(new_context)
    sign_in(tagus, site, "tagus-figures")
    open_period_form(tagus, period.label)
    enter(tagus, {**TAGUS_FIGURES, "Reports received": "3030"})  # a typo the secretariat will notice
    tagus.get_by_role("button", name="Submit for review").click()
    expect(tagus.get_by_role("status").first).to_contain_text("was submitted")
    review(admin, site, period, TAGUS, approve=False, comment="Reports received looks low against last year.")
    message = site.wait_for_email("tagus-figures@example.org", "returned for correction")
    assert "Reports received looks low against last year." in email_text(message)
    tagus.reload()
    expect(tagus.get_by_role("main")).to_contain_text("Reports received looks low against last year.")
    enter(tagus, TAGUS_FIGURES)
    tagus.get_by_role("button", name="Submit for review").click()
    expect(tagus.get_by_role("status").first).to_contain_text("was submitted")
    versions = Submission.objects.filter(period=period, organisation__name=TAGUS).order_by("version")
    assert [v.status for v in versions] == ["returned", "submitted"]  # the returned version is kept

    # 4. The reminder, a week before the deadline, reaches the hotline that has not submitted: Danube, once.
    assert send_deadline_reminders() >= 1
    send_deadline_reminders()  # beat runs hourly: nothing twice
    reminders = [m for m in site.emails_to(danube.email) if "due soon" in str(m["Subject"])]
    assert len(reminders) == 1 and f"Figures for {period.label}" in str(reminders[0]["Subject"])
    assert not [m for m in site.emails_to("tagus-figures@example.org") if "due" in str(m["Subject"])]
    assert not [m for m in site.emails_to("demo-hotline@example.org") if "due" in str(m["Subject"])]

    # 5. The secretariat approves both and schedules the release, members reading early, the issue at the release.
    review(admin, site, period, NORTH, approve=True)
    review(admin, site, period, TAGUS, approve=True)
    admin.goto(site.absolute(reverse("reporting_periods:review", args=[period.pk])))
    release_at = timezone.localtime() + datetime.timedelta(hours=2)
    admin.get_by_label("Dataset").select_option(label=str(dataset))
    admin.get_by_label("Release at").fill(release_at.strftime("%Y-%m-%dT%H:%M"))
    admin.get_by_label("Before the release, who may read them").select_option("login")
    admin.get_by_label("Newsletter issue to send at the release").select_option(label=issue.title)
    admin.get_by_role("button", name="Write the approved figures into the dataset").click()
    expect(admin.get_by_role("main")).to_contain_text("embargoed until")
    expect(admin.get_by_role("main")).to_contain_text(f"{issue.title}: goes out at the release")
    aggregation = Aggregation.objects.get(period=period)
    assert aggregation.contributors.count() == 2 and aggregation.released_at is None

    # 6. Before the release: members read them marked as embargoed; the public sees them nowhere.
    page.goto(site.absolute(stats_page.url))
    embargo = page.locator(".stats-embargo")
    expect(embargo).to_contain_text(f"Embargoed until {release_at:%-d %B %Y, %H:%M}")
    expect(embargo).to_contain_text(TOTAL_RECEIVED)
    tagus.goto(site.absolute(stats_page.url))  # a member of another hotline: the same
    expect(tagus.locator(".stats-embargo")).to_contain_text(TOTAL_RECEIVED)
    public_context = new_context()
    public = public_context.new_page()
    public.goto(site.absolute(stats_page.url))
    expect(public.get_by_role("main")).not_to_contain_text(TOTAL_RECEIVED)
    expect(public.locator(".stats-embargo")).to_have_count(0)
    assert f'"period":"{year}"' not in api_text(public_context, site, dataset).replace(" ", "")
    site.home(public)
    expect(public.get_by_role("main")).not_to_contain_text(TOTAL_RECEIVED)
    assert not site.emails_to(reader.email)

    # 7. The release: beat's task at the release time; every channel switches, the issue goes out once.
    assert release_due(now=aggregation.release_at + datetime.timedelta(seconds=30)) == 1
    assert release_due(now=aggregation.release_at + datetime.timedelta(seconds=90)) == 0
    assert send_waiting_newsletters() == 0
    public.goto(site.absolute(stats_page.url))
    expect(public.get_by_role("main")).to_contain_text(TOTAL_RECEIVED)
    expect(public.get_by_role("main")).to_contain_text(f"{year}: Figures from 2 of")
    expect(public.locator(".stats-embargo")).to_have_count(0)
    assert f'"period":"{year}"' in api_text(public_context, site, dataset).replace(" ", "")
    site.home(public)
    expect(public.get_by_role("main")).to_contain_text(TOTAL_RECEIVED)
    newsletter = site.wait_for_email(reader.email, f"The network's figures {year}")
    assert TOTAL_RECEIVED in email_text(newsletter)
    assert len(site.emails_to(reader.email)) == 1
