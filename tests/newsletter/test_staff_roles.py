"""What a staff role unlocks on the sending pages (issue 17, point 6).

The reproductions: Editors and Moderators, who are refused the subscriber admin, read bounced and failed
recipients' addresses and reasons on a send's progress page; and an Editor could post five external addresses
per test send, any number of times, receiving draft content no moderator approved, from the newsletter's sender.
"""

from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.urls import reverse

from wagtail.models import PageLogEntry

import pytest

from newsletter.models import Delivery, Send
from tests.factories import UserFactory
from tests.newsletter.issue_factories import NewsletterIndexPageFactory, make_issue

FIVE_OUTSIDERS = "a@outside.example, b@outside.example, c@outside.example, d@outside.example, e@outside.example"


@pytest.fixture(autouse=True)
def fresh_limits(settings):
    cache.clear()
    settings.NEWSLETTER_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.NEWSLETTER_TEST_RECIPIENTS = []


@pytest.fixture
def issue(home):
    return make_issue(NewsletterIndexPageFactory(parent=home), subject="December network news")


@pytest.fixture
def editor(db):
    return UserFactory(username="editor", email="editor@portal.example", is_staff=True,
                       groups=[Group.objects.get(name="Editors")])


@pytest.fixture
def moderator(db):
    return UserFactory(username="moderator", email="moderator@portal.example", is_staff=True,
                       groups=[Group.objects.get(name="Moderators")])


def post_test(client, issue, recipients):
    return client.post(reverse("newsletter_sending:issue", args=[issue.pk]), {"test-recipients": recipients})


def with_a_draft_change(issue):
    draft = issue.get_latest_revision_as_object()
    draft.subject = "Unapproved draft subject"
    draft.save_revision()
    issue.refresh_from_db()
    assert issue.has_unpublished_changes


def test_an_editor_cannot_mail_outside_addresses_however_often(client, editor, issue, smtp):
    client.force_login(editor)
    for _attempt in range(12):
        response = post_test(client, issue, FIVE_OUTSIDERS)
        assert response.status_code == 200
        assert "Tests go only to staff accounts" in response.content.decode()
    assert smtp.recipients == []
    assert not PageLogEntry.objects.filter(action="newsletter.test_send").exists()


def test_tests_go_to_staff_addresses_and_are_logged(client, editor, moderator, issue, smtp):
    client.force_login(editor)
    with_a_draft_change(issue)
    response = post_test(client, issue, "Editor@Portal.example, moderator@portal.example")
    assert response.status_code == 302
    smtp.wait_for(2)
    assert sorted(smtp.recipients) == ["Editor@Portal.example", "moderator@portal.example"]
    entry = PageLogEntry.objects.get(action="newsletter.test_send", user=editor)
    assert entry.data["draft"] is True and entry.data["revision"] == issue.latest_revision_id


def test_outside_test_addresses_get_a_draft_only_from_a_moderator(client, editor, moderator, issue, smtp, settings):
    settings.NEWSLETTER_TEST_RECIPIENTS = ["reviewer@partner.example", "@agency.example"]
    client.force_login(editor)
    # The published (moderated) version may go to the configured list.
    assert post_test(client, issue, "reviewer@partner.example, anyone@agency.example").status_code == 302
    with_a_draft_change(issue)
    refused = post_test(client, issue, "reviewer@partner.example")
    assert "has not been approved yet" in refused.content.decode()
    smtp.wait_for(2)
    assert len(smtp.recipients) == 2

    client.force_login(moderator)
    assert post_test(client, issue, "reviewer@partner.example").status_code == 302
    smtp.wait_for(3)
    assert smtp.messages[-1]["Subject"] == "[Test] Unapproved draft subject"


def test_test_sends_are_rate_limited_per_user_and_per_issue(client, editor, moderator, issue, smtp, settings):
    settings.NEWSLETTER_TEST_SEND_RATE_USER = "2/3600"
    settings.NEWSLETTER_TEST_SEND_RATE_ISSUE = "3/3600"
    client.force_login(editor)
    answers = [post_test(client, issue, "editor@portal.example").status_code for _ in range(3)]
    assert answers == [302, 302, 200]
    assert "Too many test sends by you" in post_test(client, issue, "editor@portal.example").content.decode()
    client.force_login(moderator)
    assert post_test(client, issue, "moderator@portal.example").status_code == 302
    assert "Too many test sends by this issue" in post_test(client, issue, "moderator@portal.example"
                                                            ).content.decode()
    smtp.wait_for(3)
    assert len(smtp.recipients) == 3


@pytest.fixture
def failed_send(issue):
    send = Send.objects.create(issue=issue, audience_key="all", audience_label="Everyone", status=Send.Status.DONE)
    Delivery.objects.create(send=send, email="bounced.reader@example.org", status=Delivery.Status.BOUNCED,
                            error="550 mailbox unknown")
    Delivery.objects.create(send=send, email="failed.reader@example.org", status=Delivery.Status.FAILED,
                            error="timeout")
    Delivery.objects.create(send=send, email="ok.reader@example.org", status=Delivery.Status.SENT)
    return send


@pytest.mark.parametrize("role", ["Editors", "Moderators"])
def test_editors_and_moderators_see_counts_not_addresses(client, failed_send, role):
    client.force_login(UserFactory(is_staff=True, groups=[Group.objects.get(name=role)]))
    response = client.get(reverse("newsletter_sending:progress", args=[failed_send.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "1 failed, 1 bounced" in html
    for secret in ("bounced.reader", "failed.reader", "550 mailbox unknown", "timeout"):
        assert secret not in html
    progress = client.get(reverse("newsletter_sending:progress_json", args=[failed_send.pk])).content.decode()
    assert "reader@" not in progress


def test_staff_with_the_subscriber_permission_see_addresses_and_reasons(client, failed_send):
    user = UserFactory(is_staff=True, groups=[Group.objects.get(name="Moderators")])
    user.user_permissions.add(Permission.objects.get(codename="view_subscriber"))
    client.force_login(user)
    html = client.get(reverse("newsletter_sending:progress", args=[failed_send.pk])).content.decode()
    assert "bounced.reader@example.org" in html and "550 mailbox unknown" in html


def test_staff_cannot_turn_their_own_address_into_an_outside_one(client, editor, issue, smtp):
    """Test sends trust staff accounts' addresses, so staff may not change their own in the admin."""
    client.force_login(editor)
    client.post("/admin/account/", {"name_email-first_name": "Ed", "name_email-last_name": "Itor",
                                    "name_email-email": "outsider@elsewhere.example"})
    editor.refresh_from_db()
    assert editor.email == "editor@portal.example"
    assert 'name="name_email-email"' not in client.get("/admin/account/").content.decode()
    assert "Tests go only to staff" in post_test(client, issue, "outsider@elsewhere.example").content.decode()
