"""The access gate: an issue may only contain pages its whole audience may read, checked again at send time."""

from django.core.exceptions import ValidationError

from wagtail.models import PageViewRestriction

import pytest

from newsletter.models import Audience, Send
from newsletter.services import dispatch
from newsletter.services.gate import GateError
from portal.members.models import SectorGroup
from tests.factories import StandardPageFactory
from tests.newsletter.issue_factories import NewsletterIndexPageFactory, featured, make_issue, text
from tests.portal.members.factories import member_of, sector


@pytest.fixture
def archive(home):
    return NewsletterIndexPageFactory(parent=home)


@pytest.fixture
def members_page(home):
    page = StandardPageFactory(parent=home, title="Members' updates")
    PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.LOGIN)
    return page


@pytest.fixture
def police_page(home):
    page = StandardPageFactory(parent=home, title="Law-enforcement briefing")
    restriction = PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.GROUPS)
    restriction.groups.set([SectorGroup.objects.get(sector_slug="law-enforcement").group])
    return page


def test_public_issue_cannot_feature_a_members_only_page(archive, members_page):
    with pytest.raises(ValidationError) as excinfo:
        make_issue(archive, blocks=[featured(members_page)], audience=Audience.PUBLIC)
    assert "Members' updates" in str(excinfo.value)
    assert "restricted beyond this issue's audience" in str(excinfo.value)


def test_public_issue_cannot_link_a_members_page_inside_text(archive, members_page):
    link = f'<p>See <a linktype="page" id="{members_page.pk}">the update</a>.</p>'
    with pytest.raises(ValidationError, match="Members' updates"):
        make_issue(archive, blocks=[text(link)], audience=Audience.PUBLIC)


def test_members_issue_may_feature_members_page_but_not_a_sector_page(archive, members_page, police_page):
    issue = make_issue(archive, blocks=[featured(members_page)], audience=Audience.MEMBERS)
    assert issue.live
    with pytest.raises(ValidationError, match="Law-enforcement briefing"):
        make_issue(archive, blocks=[featured(police_page)], audience=Audience.MEMBERS)


def test_sector_issue_cannot_include_another_sectors_page(archive, police_page):
    police = make_issue(archive, blocks=[featured(police_page)], audience=Audience.SECTORS,
                        sectors=[sector("law-enforcement")])
    assert police.live
    with pytest.raises(ValidationError, match="Law-enforcement briefing"):
        make_issue(archive, blocks=[featured(police_page)], audience=Audience.SECTORS,
                   sectors=[sector("law-enforcement"), sector("industry")])


def test_sector_audience_needs_a_sector(archive):
    with pytest.raises(ValidationError, match="at least one sector"):
        make_issue(archive, audience=Audience.SECTORS)


def test_page_restricted_after_publishing_stops_the_send(archive, home):
    page = StandardPageFactory(parent=home, title="Open for now")
    issue = make_issue(archive, blocks=[featured(page)], audience=Audience.PUBLIC)
    send, _ = dispatch.create_send(issue)
    PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.LOGIN)

    assert dispatch.prepare_send(send.pk) is None
    send.refresh_from_db()
    assert send.status == Send.Status.PAUSED
    assert "Open for now" in send.paused_reason
    assert not send.deliveries.exists()
    with pytest.raises(GateError, match="Open for now"):
        dispatch.create_send(issue)


def test_archive_of_a_members_issue_is_not_public(client, archive):
    issue = make_issue(archive, audience=Audience.MEMBERS, title="Members issue")
    anonymous = client.get(issue.url)
    assert anonymous.status_code == 302
    assert "Members issue" not in client.get(archive.url).content.decode()

    client.force_login(member_of("ngo"))
    assert client.get(issue.url).status_code == 200
    assert "Members issue" in client.get(archive.url).content.decode()


def test_archive_of_a_sector_issue_is_closed_to_other_sectors(client, archive):
    issue = make_issue(archive, audience=Audience.SECTORS, sectors=[sector("industry")], title="Industry issue")
    client.force_login(member_of("hotline"))
    assert client.get(issue.url).status_code in {302, 403}
    client.force_login(member_of("industry"))
    response = client.get(issue.url)
    assert response.status_code == 200
    assert "Hotlines removed most reported content fast." in response.content.decode()


def test_public_issue_archive_is_public_and_draft_audience_change_keeps_live_restriction(client, archive):
    issue = make_issue(archive, audience=Audience.MEMBERS)
    # An editor drafts a change to "public" without publishing: the live archive page stays members-only.
    issue.audience = Audience.PUBLIC
    issue.save_revision()
    assert client.get(issue.url).status_code == 302
    issue.get_latest_revision().publish()
    assert client.get(issue.url).status_code == 200


def test_admin_refuses_to_save_a_public_issue_featuring_a_members_page(admin_client, archive, members_page):
    from django.urls import reverse

    from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

    from newsletter.models import NewsletterIssue

    add_url = reverse("wagtailadmin_pages:add", args=["newsletter", "newsletterissue", archive.pk])
    data = nested_form_data({
        "title": "Members news", "slug": "members-news", "subject": "Members news", "preheader": "",
        "intro": rich_text("<p>For members.</p>"), "audience": Audience.PUBLIC,
        "body": streamfield([("featured_page", {"page": members_page.pk, "summary": "",
                                                "button_label": "Read on the portal"})]),
    })
    response = admin_client.post(add_url, data)
    assert response.status_code == 200  # the form again, with the reason on the body
    assert "restricted beyond this issue&#x27;s audience" in response.content.decode()
    assert "Members&#x27; updates" in response.content.decode()
    assert not NewsletterIssue.objects.filter(slug="members-news").exists()
