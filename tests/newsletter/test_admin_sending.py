"""Editors preview, test and send issues from the Wagtail admin; moderators send; everything is audit-logged."""

from django.contrib.auth.models import Group
from django.urls import reverse

from wagtail.models import PageLogEntry

import pytest

from newsletter.models import Send
from tests.factories import UserFactory
from tests.newsletter.factories import SubscriberFactory
from tests.newsletter.issue_factories import NewsletterIndexPageFactory, make_issue


@pytest.fixture
def archive(home):
    return NewsletterIndexPageFactory(parent=home)


@pytest.fixture
def moderator(db):
    return UserFactory(username="moderator", is_staff=True, groups=[Group.objects.get(name="Moderators")])


@pytest.fixture
def editor(db):
    return UserFactory(username="editor", is_staff=True, groups=[Group.objects.get(name="Editors")])


@pytest.fixture
def issue(archive):
    for n in range(4):
        SubscriberFactory(email=f"admin{n}@example.org")
    return make_issue(archive, subject="December network news")


def issue_url(issue):
    return reverse("newsletter_sending:issue", args=[issue.pk])


def test_issue_page_shows_audience_size_previews_and_a_header_button(client, moderator, issue):
    client.force_login(moderator)
    response = client.get(issue_url(issue))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<strong>4</strong> recipients" in html
    preview = client.get(reverse("newsletter_sending:email_preview", args=[issue.pk])).content.decode()
    assert "December network news" in preview and "%%" not in preview
    edit = client.get(reverse("wagtailadmin_pages:edit", args=[issue.pk])).content.decode()
    assert issue_url(issue) in edit


def test_the_issue_editor_shows_the_send_action_and_audience_checkboxes(client, moderator, issue):
    # Issue 20, point 13: the action was only in the header's "..." menu; topics and sectors were Ctrl-click selects.
    from bs4 import BeautifulSoup

    from tests.factories import SectorFactory, TopicFactory

    TopicFactory(name="Prevention", slug="prevention")
    SectorFactory(name="Hotlines", slug="hotlines")
    client.force_login(moderator)
    soup = BeautifulSoup(client.get(reverse("wagtailadmin_pages:edit", args=[issue.pk])).content, "html.parser")
    action = soup.select_one("a[data-newsletter-send-action]")
    assert action is not None and action["href"] == issue_url(issue)
    assert "Preview, test and send" in action.get_text()
    assert not action.find_parent(attrs={"data-w-dropdown-target": True})  # not inside a dropdown menu
    for name in ("audience_topics", "audience_sectors"):
        assert soup.select(f"input[type=checkbox][name={name}]"), name
        assert not soup.select(f"select[name={name}]"), name


def test_test_send_reaches_only_the_test_addresses_and_is_logged(client, editor, issue, smtp, settings):
    settings.NEWSLETTER_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.NEWSLETTER_TEST_RECIPIENTS = ["me@example.org", "boss@example.org"]  # the issue is published
    client.force_login(editor)
    response = client.post(issue_url(issue), {"test-recipients": "me@example.org, boss@example.org"})
    assert response.status_code == 302
    smtp.wait_for(2)
    assert sorted(smtp.recipients) == ["boss@example.org", "me@example.org"]
    assert smtp.messages[0]["Subject"] == "[Test] December network news"
    assert not Send.objects.exists()
    assert PageLogEntry.objects.filter(page=issue, action="newsletter.test_send", user=editor).exists()

    bad = client.post(issue_url(issue), {"test-recipients": "not-an-address"})
    assert "is not an email address" in bad.content.decode()


def test_editor_cannot_send_to_the_audience(client, editor, issue):
    client.force_login(editor)
    html = client.get(issue_url(issue)).content.decode()
    assert "Send to the audience" not in html
    response = client.post(issue_url(issue), {"send-when": "now", "send-confirmed": "True"})
    # Wagtail turns the refusal into a redirect to the dashboard with a permission message.
    assert response.status_code == 302 and response.url == reverse("wagtailadmin_home")
    assert not Send.objects.exists()


def test_send_asks_for_confirmation_then_sends_once(client, moderator, issue, smtp, settings,
                                                    django_capture_on_commit_callbacks):
    settings.NEWSLETTER_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    client.force_login(moderator)
    ask = client.post(issue_url(issue), {"send-when": "now"})
    assert "to 4 recipients" in ask.content.decode()
    assert not Send.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(issue_url(issue), {"send-when": "now", "send-confirmed": "True"})
        again = client.post(issue_url(issue), {"send-when": "now", "send-confirmed": "True"})
    send = Send.objects.get()
    assert sent.url == again.url == reverse("newsletter_sending:progress", args=[send.pk])
    assert sorted(smtp.recipients) == [f"admin{n}@example.org" for n in range(4)]

    progress = client.get(reverse("newsletter_sending:progress_json", args=[send.pk])).json()
    assert progress["status"] == "done" and progress["percent"] == 100.0 and progress["sent"] == 4
    page = client.get(sent.url).content.decode()
    assert 'data-field="sent">4<' in page
    entry = PageLogEntry.objects.get(page=issue, action="newsletter.send")
    assert entry.user == moderator
    assert "Public subscribers" in entry.data["audience"]


def test_schedule_and_cancel_from_the_admin(client, moderator, issue, smtp):
    client.force_login(moderator)
    data = {"send-when": "schedule", "send-scheduled_at": "2099-01-01T09:00", "send-confirmed": "True"}
    response = client.post(issue_url(issue), data)
    send = Send.objects.get()
    assert send.status == Send.Status.SCHEDULED
    client.post(reverse("newsletter_sending:action", args=[send.pk, "cancel"]))
    send.refresh_from_db()
    assert send.status == Send.Status.CANCELLED
    assert response.status_code == 302
    assert smtp.recipients == []
    assert PageLogEntry.objects.filter(page=issue, action="newsletter.cancel", user=moderator).exists()

    past = client.post(issue_url(issue), {"send-when": "schedule", "send-scheduled_at": "2001-01-01T09:00"})
    assert "Choose a time in the future." in past.content.decode()
