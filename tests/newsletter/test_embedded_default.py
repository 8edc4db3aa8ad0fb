"""The embedded default (SQLite, eager Celery, no broker, no beat): the admin's send, schedule, pause, resume
and progress work without an error page, and everybody gets one copy.

The rows are committed (``transaction=True``), as in a served request, so a send could open other database
connections if it wanted to. On SQLite it must not: one writer at a time is all the file allows, and several
sending lanes used to make "Yes, send now" answer HTTP 500 "database is locked". (On PostgreSQL the same tests
run the threaded lanes, which must give the same result.) The browser walk through the real ``make demo`` is
``tests/e2e/test_embedded_default_send.py``.
"""

from __future__ import annotations

import collections
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

import pytest

from newsletter.models import Audience, Send, Subscriber
from tests.factories import UserFactory, make_site_home
from tests.newsletter.issue_factories import NewsletterIndexPageFactory, make_issue
from tests.services import restore_wagtail_base_data

pytestmark = pytest.mark.django_db(transaction=True)

READERS = 150


@pytest.fixture
def embedded(settings, smtp):
    """Eager Celery as without a broker; four lanes per task and two tasks per send, the production defaults."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.NEWSLETTER_BACKEND = "smtp"
    settings.NEWSLETTER_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.NEWSLETTER_CONNECTIONS_PER_TASK = 4
    settings.NEWSLETTER_PARALLEL_BATCHES = 2
    settings.NEWSLETTER_BATCH_SIZE = 10
    settings.NEWSLETTER_RATE_PER_SECOND = None
    restore_wagtail_base_data()
    return smtp


@pytest.fixture
def issue(embedded):
    archive = NewsletterIndexPageFactory(parent=make_site_home())
    Subscriber.objects.bulk_create([Subscriber(email=f"reader{n:03d}@example.org",
                                               status=Subscriber.Status.SUBSCRIBED) for n in range(READERS)])
    return make_issue(archive, audience=Audience.PUBLIC, subject="Embedded default")


@pytest.fixture
def publisher(client, issue):
    user = UserFactory(username="publisher", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def every_reader_once(sink) -> None:
    counts = collections.Counter(sink.recipients)
    assert len(counts) == READERS, f"{READERS - len(counts)} readers got nothing"
    assert max(counts.values()) == 1, [email for email, n in counts.items() if n > 1][:5]


def test_send_now_answers_with_the_progress_page_and_everyone_gets_one_copy(client, publisher, issue, embedded):
    url = reverse("newsletter_sending:issue", args=[issue.pk])
    response = client.post(url, {"send-when": "now", "send-confirmed": "True"})

    send = Send.objects.get()
    assert response.status_code == 302 and response.url == reverse("newsletter_sending:progress", args=[send.pk])
    page = client.get(response.url)
    assert page.status_code == 200
    assert f'data-field="sent">{READERS}<' in page.content.decode()
    assert Send.objects.get().status == Send.Status.DONE
    embedded.wait_for(READERS)
    every_reader_once(embedded)


def test_a_scheduled_send_goes_out_on_the_embedded_default_without_beat(client, publisher, issue, embedded):
    url = reverse("newsletter_sending:issue", args=[issue.pk])
    at = timezone.localtime() + timedelta(hours=1)
    response = client.post(url, {"send-when": "schedule", "send-scheduled_at": at.strftime("%Y-%m-%dT%H:%M"),
                                 "send-confirmed": "True"})
    assert response.status_code == 302
    send = Send.objects.get()
    assert client.get(response.url).status_code == 200
    assert Send.objects.get().status == Send.Status.SCHEDULED and embedded.recipients == []

    # The time comes. No beat runs without a broker: the editor looking at the send is what starts it.
    Send.objects.filter(pk=send.pk).update(scheduled_at=timezone.now() - timedelta(seconds=1))
    page = client.get(response.url)
    assert page.status_code == 200
    assert Send.objects.get().status == Send.Status.DONE
    embedded.wait_for(READERS)
    every_reader_once(embedded)


def test_pause_and_resume_from_the_admin(client, publisher, issue, embedded):
    from newsletter.services import dispatch

    send, _ = dispatch.create_send(issue, user=publisher)  # created, not started yet (as while preparing)
    pause = client.post(reverse("newsletter_sending:action", args=[send.pk, "pause"]))
    assert pause.status_code == 302
    assert client.get(pause.url).status_code == 200
    assert Send.objects.get().status == Send.Status.PAUSED and embedded.recipients == []

    resume = client.post(reverse("newsletter_sending:action", args=[send.pk, "resume"]))
    assert resume.status_code == 302
    assert client.get(resume.url).status_code == 200
    assert Send.objects.get().status == Send.Status.DONE
    embedded.wait_for(READERS)
    every_reader_once(embedded)
