"""Sending an issue through the pipeline (eager tasks) to a real SMTP server on loopback."""

import re
import time
from datetime import timedelta

from django.utils import timezone

import pytest

from newsletter.models import Audience, Delivery, Send, Subscriber
from newsletter.services import dispatch, tokens
from newsletter.tasks import start_send
from tests.newsletter.factories import SubscriberFactory
from tests.newsletter.issue_factories import NewsletterIndexPageFactory, make_issue
from tests.portal.members.factories import member_of

UNSUBSCRIBE_LINK = re.compile(r"<(https?://[^>]+/newsletter/unsubscribe/([^/>]+)/)>")


@pytest.fixture
def archive(home):
    return NewsletterIndexPageFactory(parent=home)


@pytest.fixture
def sending(settings, smtp):
    settings.NEWSLETTER_BACKEND = "smtp"
    settings.NEWSLETTER_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.NEWSLETTER_BATCH_SIZE = 7
    settings.NEWSLETTER_RATE_PER_SECOND = None
    settings.NEWSLETTER_WINDOW_CAP = None
    return smtp


def send_now(issue):
    send, _created = dispatch.create_send(issue)
    start_send.delay(send.pk)
    send.refresh_from_db()
    return send


def test_topic_issue_reaches_exactly_the_confirmed_subscribers_of_that_topic(archive, topics, sending, settings):
    settings.SITE_URL = "https://portal.example.org"  # RFC 8058 one-click needs an https link
    takedown, prevention = topics
    wanted = [SubscriberFactory(email=f"takedown{n}@example.org") for n in range(20)]
    for subscriber in wanted:
        subscriber.topics.set([takedown])
    SubscriberFactory(email="Everything@Example.org")  # no topic chosen: gets every topic
    other = SubscriberFactory(email="prevention@example.org")
    other.topics.set([prevention])
    SubscriberFactory(email="pending@example.org", status=Subscriber.Status.PENDING).topics.set([takedown])
    SubscriberFactory(email="left@example.org", status=Subscriber.Status.UNSUBSCRIBED).topics.set([takedown])
    digest = SubscriberFactory(email="digest@example.org", frequency=Subscriber.Frequency.MONTHLY_DIGEST)
    digest.topics.set([takedown])

    issue = make_issue(archive, topics=[takedown], audience=Audience.PUBLIC, subject="Takedown news")
    send = send_now(issue)

    expected = {s.email for s in wanted} | {"everything@example.org"}
    sending.wait_for(len(expected))
    assert sorted(sending.recipients) == sorted(expected)  # each once, nobody else
    assert send.status == Send.Status.DONE
    assert dispatch.progress(send)["sent"] == len(expected)

    # Every message is personal: its unsubscribe link and header belong to its recipient.
    for message in sending.messages:
        recipient = message["To"]
        header = message["List-Unsubscribe"]
        url, token = UNSUBSCRIBE_LINK.search(header).groups()
        assert tokens.read_token(token, tokens.UNSUBSCRIBE).email.lower() == recipient.lower()
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["List-Id"]
        assert message["Subject"] == "Takedown news"
        html = message.get_body(("html",)).get_content()
        text = message.get_body(("plain",)).get_content()
        assert url in html and url in text
        assert "/newsletter/preferences/" in html
        assert "%%" not in html and "%%" not in text
        assert "Hotlines removed most reported content fast." in text


def test_pressing_send_twice_and_rerunning_tasks_sends_once(archive, sending):
    for n in range(10):
        SubscriberFactory(email=f"reader{n}@example.org")
    issue = make_issue(archive)
    first, created = dispatch.create_send(issue)
    second, created_again = dispatch.create_send(issue)
    assert created and not created_again and first.pk == second.pk

    start_send.delay(first.pk)
    start_send.delay(first.pk)  # a retried task
    dispatch.run_send(first.pk)
    sending.wait_for(10)
    time.sleep(0.2)
    assert len(sending.recipients) == 10
    assert Send.objects.filter(issue=issue).count() == 1


def test_temporary_refusal_is_retried_until_delivered_and_permanent_failure_is_recorded(archive, sending):
    SubscriberFactory(email="ok@example.org")
    SubscriberFactory(email="busy@example.org")
    SubscriberFactory(email="gone@example.org")
    sending.refuse["busy@example.org"] = (451, "4.3.0 Try again later")
    sending.refuse["gone@example.org"] = (550, "5.1.1 No such user")
    send = send_now(make_issue(archive))

    busy = Delivery.objects.get(send=send, email="busy@example.org")
    assert busy.status == Delivery.Status.QUEUED and busy.attempts == 1 and busy.not_before > timezone.now()
    gone = Delivery.objects.get(send=send, email="gone@example.org")
    assert gone.status == Delivery.Status.FAILED and "No such user" in gone.error

    # The server recovers; once the backoff has passed, the retry delivers.
    del sending.refuse["busy@example.org"]
    Delivery.objects.filter(pk=busy.pk).update(not_before=timezone.now() - timedelta(seconds=1))
    dispatch.run_send(send.pk)
    busy.refresh_from_db()
    send.refresh_from_db()
    assert busy.status == Delivery.Status.SENT
    assert send.status == Send.Status.DONE
    assert sorted(sending.recipients) == ["busy@example.org", "ok@example.org"]


def test_server_down_then_back_delivers_everyone(archive, sending, settings):
    for n in range(15):
        SubscriberFactory(email=f"patient{n}@example.org")
    issue = make_issue(archive)
    send, _ = dispatch.create_send(issue)
    sending.stop()
    outcome = dispatch.run_send(send.pk)
    assert outcome.state == "wait" and outcome.wait_seconds > 0
    assert Delivery.objects.filter(send=send, status=Delivery.Status.SENT).count() == 0
    # The server is the problem, not the recipients: nobody spent a retry attempt, the whole send waits.
    assert set(Delivery.objects.filter(send=send).values_list("status", "attempts")) == {(Delivery.Status.QUEUED, 0)}
    assert "mail server could not be reached" in dispatch.progress(send)["waiting_reason"]
    assert dispatch.run_send(send.pk).state == "wait"  # still held back: no new connection attempt
    assert dispatch.run_send(send.pk).wait_seconds > 0

    sending.start()
    Send.objects.filter(pk=send.pk).update(deferred_until=timezone.now() - timedelta(seconds=1))  # time passes
    dispatch.run_send(send.pk)
    send.refresh_from_db()
    assert send.status == Send.Status.DONE
    assert len(set(sending.recipients)) == 15
    assert send.connection_failures == 0 and dispatch.progress(send)["waiting_reason"] == ""


def test_failures_in_a_row_hold_the_send_back_longer_each_time(archive, sending, settings):
    settings.NEWSLETTER_RETRY_BASE_SECONDS = 10
    settings.NEWSLETTER_RETRY_MAX_SECONDS = 1000
    SubscriberFactory(email="patient@example.org")
    send, _ = dispatch.create_send(make_issue(archive))
    sending.stop()
    waits = []
    for _ in range(4):
        waits.append(dispatch.run_send(send.pk).wait_seconds)
        Send.objects.filter(pk=send.pk).update(deferred_until=timezone.now() - timedelta(seconds=1))
    # 10·2^(n-1) seconds with ±50% jitter: each failure in a row waits about twice as long as the one before.
    for n, wait in enumerate(waits, start=1):
        assert 5 * 2 ** (n - 1) <= wait < 15 * 2 ** (n - 1)
    assert Send.objects.get(pk=send.pk).connection_failures == 4
    assert Delivery.objects.get(send=send).attempts == 0


def test_subscriber_who_unsubscribes_mid_send_is_suppressed(archive, sending):
    stays = SubscriberFactory(email="stays@example.org")
    leaves = SubscriberFactory(email="leaves@example.org")
    issue = make_issue(archive)
    send, _ = dispatch.create_send(issue)
    dispatch.prepare_send(send.pk)  # list frozen with both
    Subscriber.objects.filter(pk=leaves.pk).update(status=Subscriber.Status.UNSUBSCRIBED)
    dispatch.run_send(send.pk)

    assert sending.recipients == [stays.email]
    assert Delivery.objects.get(send=send, email=leaves.email).status == Delivery.Status.SUPPRESSED
    assert dispatch.progress(send)["suppressed"] == 1


def test_members_issue_reaches_members_once_and_respects_their_unsubscribe(archive, sending):
    hotline = member_of("hotline", email="analyst@hotline.example.org")
    police = member_of("law-enforcement", email="officer@police.example.org")
    opted_out = member_of("ngo", email="ngo@example.org")
    SubscriberFactory(email="officer@police.example.org")  # also a public subscriber: one copy only
    SubscriberFactory(email="ngo@example.org", status=Subscriber.Status.UNSUBSCRIBED)
    SubscriberFactory(email="public.only@example.org")

    send = send_now(make_issue(archive, audience=Audience.MEMBERS))

    assert sorted(sending.recipients) == sorted([hotline.email, police.email])
    assert Delivery.objects.get(send=send, email=opted_out.email).status == Delivery.Status.SUPPRESSED
    # The member's new newsletter record is off the public list: public issues will not reach them.
    record = Subscriber.objects.get(email=hotline.email)
    assert record.public_list is False and record.user_id == hotline.pk


def test_error_threshold_pauses_the_send_for_an_editor(archive, sending, settings):
    settings.NEWSLETTER_ERROR_MIN_ATTEMPTS = 4
    settings.NEWSLETTER_ERROR_THRESHOLD = 0.5
    for n in range(10):
        email = f"bad{n}@example.org"
        SubscriberFactory(email=email)
        sending.refuse[email] = (554, "5.7.1 Rejected")
    send = send_now(make_issue(archive))
    assert send.status == Send.Status.PAUSED
    assert "Too many failed" in send.paused_reason

    sending.refuse.clear()
    assert dispatch.resume_send(send)
    dispatch.run_send(send.pk)
    send.refresh_from_db()
    assert send.status == Send.Status.DONE


def test_rate_limit_is_honoured(archive, sending, settings):
    settings.NEWSLETTER_RATE_PER_SECOND = 10
    for n in range(25):
        SubscriberFactory(email=f"slow{n}@example.org")
    started = time.monotonic()
    send = send_now(make_issue(archive))
    elapsed = time.monotonic() - started
    assert send.status == Send.Status.DONE
    assert len(sending.recipients) == 25
    # 25 messages at 10 per second span at least three clock seconds, so more than one second passes...
    assert 1.0 < elapsed < 10, elapsed
    # ...and no one-second window ever holds more than the rate (with a little tolerance for clock skew).
    arrivals = sending.arrival_times
    busiest = max(sum(1 for t in arrivals if start <= t < start + 1.0) for start in arrivals)
    assert busiest <= 11, busiest


def test_killed_worker_batch_is_released_after_its_lease(archive, sending):
    for n in range(12):
        SubscriberFactory(email=f"crash{n}@example.org")
    issue = make_issue(archive)
    send, _ = dispatch.create_send(issue)
    send = dispatch.prepare_send(send.pk)
    _claim, held = dispatch.claim_batch(send)  # a worker claims a batch... and dies
    assert len(held) == 7
    assert dispatch.release_expired_leases() == 0  # lease still running
    Delivery.objects.filter(send=send, status=Delivery.Status.SENDING).update(  # ... until it runs out
        lease_until=timezone.now() - timedelta(seconds=1))
    assert dispatch.release_expired_leases() == 7
    assert Delivery.objects.filter(send=send, taken_back=1).count() == 7
    later = timezone.now() + timedelta(hours=1)
    assert dispatch.stalled_sends(now=later) == [send.pk]
    assert dispatch.stalled_sends(now=later) == []  # claimed: another worker's tick does not restart it again
    dispatch.run_send(send.pk)
    assert sorted(sending.recipients) == sorted(f"crash{n}@example.org" for n in range(12))


def test_scheduled_send_fires_at_its_time(archive, sending):
    SubscriberFactory(email="later@example.org")
    issue = make_issue(archive)
    when = timezone.now() + timedelta(minutes=30)
    send, _ = dispatch.create_send(issue, scheduled_at=when)
    assert send.status == Send.Status.SCHEDULED
    assert dispatch.due_scheduled_sends(now=when - timedelta(minutes=1)) == []
    assert dispatch.due_scheduled_sends(now=when + timedelta(seconds=1)) == [send.pk]
    start_send.delay(send.pk)
    assert sending.recipients == ["later@example.org"]


def test_cancelled_schedule_never_sends(archive, sending):
    SubscriberFactory(email="never@example.org")
    send, _ = dispatch.create_send(make_issue(archive), scheduled_at=timezone.now() + timedelta(hours=1))
    assert dispatch.cancel_send(send)
    assert dispatch.due_scheduled_sends(now=timezone.now() + timedelta(hours=2)) == []
    start_send.delay(send.pk)
    assert sending.recipients == []
