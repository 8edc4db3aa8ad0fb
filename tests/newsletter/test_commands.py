"""The send_newsletter, newsletter_status and resume_send commands."""

import json
from io import StringIO

from django.core.management import CommandError, call_command

from wagtail.models import PageViewRestriction

import pytest

from newsletter.models import Send
from newsletter.services import dispatch
from tests.factories import StandardPageFactory
from tests.newsletter.factories import SubscriberFactory
from tests.newsletter.issue_factories import NewsletterIndexPageFactory, featured, make_issue


@pytest.fixture
def archive(home):
    return NewsletterIndexPageFactory(parent=home)


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_send_status_and_second_send_is_a_no_op(archive, smtp, settings, django_capture_on_commit_callbacks):
    settings.NEWSLETTER_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    for n in range(3):
        SubscriberFactory(email=f"cli{n}@example.org")
    issue = make_issue(archive)
    with django_capture_on_commit_callbacks(execute=True):
        assert "queued" in run("send_newsletter", str(issue.pk))
    send = Send.objects.get(issue=issue)
    assert "already exists" in run("send_newsletter", str(issue.pk))
    status = json.loads(run("newsletter_status", str(send.pk)))
    assert status["status"] == "done" and status["sent"] == 3 and status["percent"] == 100.0
    # The ledger's own account: three handed over, three copies accepted, no second copy, nothing taken back.
    assert (status["handed_over"], status["accepted"], status["possible_duplicates"], status["taken_back"]) == (
        3, 3, 0, 0)
    assert sorted(smtp.recipients) == ["cli0@example.org", "cli1@example.org", "cli2@example.org"]


def test_send_refuses_unknown_unpublished_and_gated_issues(archive, home):
    with pytest.raises(CommandError, match="No newsletter issue"):
        run("send_newsletter", "999999")
    page = StandardPageFactory(parent=home, title="Soon private")
    issue = make_issue(archive, blocks=[featured(page)])
    PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.LOGIN)
    with pytest.raises(CommandError, match="Soon private"):
        run("send_newsletter", str(issue.pk))
    assert not Send.objects.exists()


def test_resume_send_continues_a_paused_send(archive, smtp, settings, django_capture_on_commit_callbacks):
    settings.NEWSLETTER_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    SubscriberFactory(email="paused@example.org")
    send, _ = dispatch.create_send(make_issue(archive))
    dispatch.pause_send(send, "Editor paused")
    with django_capture_on_commit_callbacks(execute=True):
        assert "resumed" in run("resume_send", str(send.pk))
    send.refresh_from_db()
    assert send.status == Send.Status.DONE
    assert smtp.recipients == ["paused@example.org"]
    with pytest.raises(CommandError, match="nothing to resume"):
        run("resume_send", str(send.pk))
