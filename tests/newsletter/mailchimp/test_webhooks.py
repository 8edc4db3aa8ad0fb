"""Mailchimp list webhooks: secret in the URL, GET check, form-encoded events handled idempotently via Celery."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

import pytest

from newsletter.models import ConsentRecord, MailchimpMember, Subscriber
from tests.factories import TopicFactory
from tests.newsletter.factories import SubscriberFactory

pytestmark = pytest.mark.django_db

SECRET = "s3cret-hook"


@pytest.fixture
def hook(settings):
    settings.MAILCHIMP_WEBHOOK_SECRET = SECRET
    settings.MAILCHIMP_AUDIENCE_ID = "a1b2c3d4e5"
    return reverse("newsletter:mailchimp_webhook", args=[SECRET])


def event(kind: str, email: str = "", fired_at=None, **data) -> dict:
    """A webhook body as Mailchimp posts it (form fields with data[...] keys)."""
    fired = (fired_at or timezone.now()).strftime("%Y-%m-%d %H:%M:%S")
    body = {"type": kind, "fired_at": fired, "data[list_id]": "a1b2c3d4e5", "data[id]": "8a25ff1d98"}
    if email:
        body["data[email]"] = email
        body["data[merges][EMAIL]"] = email
    body.update({f"data[{key}]": value for key, value in data.items()})
    return body


def post_twice(client, hook, body):
    """Every event is delivered twice: Mailchimp retries, and replays must be harmless."""
    first = client.post(hook, body)
    second = client.post(hook, body)
    assert first.status_code == second.status_code == 200
    return first


def test_get_answers_200_for_mailchimps_url_check(client, hook):
    assert client.get(hook).status_code == 200


def test_wrong_secret_gets_403_and_changes_nothing(client, hook):
    person = SubscriberFactory(email="stay@example.org")
    wrong = reverse("newsletter:mailchimp_webhook", args=["guessed"])
    assert client.get(wrong).status_code == 403
    assert client.post(wrong, event("unsubscribe", person.email, action="unsub")).status_code == 403
    person.refresh_from_db()
    assert person.status == Subscriber.Status.SUBSCRIBED
    assert not person.consents.exists()


def test_without_a_secret_configured_the_endpoint_does_not_exist(client, settings):
    settings.MAILCHIMP_WEBHOOK_SECRET = ""
    assert client.get(reverse("newsletter:mailchimp_webhook", args=["anything"])).status_code == 404


def test_unsubscribe_withdraws_consent_once(client, hook):
    person = SubscriberFactory(email="leaving@example.org", confirmed_at=timezone.now() - timedelta(days=5))
    post_twice(client, hook, event("unsubscribe", person.email, action="unsub", reason="manual"))
    person.refresh_from_db()
    assert person.status == Subscriber.Status.UNSUBSCRIBED
    assert list(person.consents.values_list("event", "form")) == [(ConsentRecord.Event.WITHDRAWN, "mailchimp")]
    assert MailchimpMember.objects.get(subscriber=person).remote_status == "unsubscribed"


def test_subscribe_of_an_unknown_address_adds_it_with_a_consent_record(client, hook):
    post_twice(client, hook, event("subscribe", "New.Reader@example.org"))
    person = Subscriber.objects.get(email__iexact="new.reader@example.org")
    assert person.status == Subscriber.Status.SUBSCRIBED
    consent = person.consents.get()
    assert consent.event == ConsentRecord.Event.IMPORTED and "Mailchimp" in consent.basis


def test_subscribe_after_an_opt_out_resubscribes_but_an_older_event_does_not(client, hook):
    person = SubscriberFactory(email="back@example.org", status=Subscriber.Status.UNSUBSCRIBED,
                               unsubscribed_at=timezone.now() - timedelta(hours=1))
    stale = event("subscribe", person.email, fired_at=timezone.now() - timedelta(hours=2))
    post_twice(client, hook, stale)
    person.refresh_from_db()
    assert person.status == Subscriber.Status.UNSUBSCRIBED  # the opt-out is newer

    post_twice(client, hook, event("subscribe", person.email))
    person.refresh_from_db()
    assert person.status == Subscriber.Status.SUBSCRIBED
    assert person.consents.filter(event=ConsentRecord.Event.CONFIRMED).count() == 1


def test_profile_updates_topics_and_frequency(client, hook):
    prevention = TopicFactory(name="Prevention", slug="prevention")
    TopicFactory(name="Notice and takedown", slug="notice-and-takedown")
    person = SubscriberFactory(email="profile@example.org")
    body = event("profile", person.email, **{"merges][INTERESTS": "Prevention", "merges][FREQUENCY": "monthly_digest"})
    post_twice(client, hook, body)
    person.refresh_from_db()
    assert list(person.topics.all()) == [prevention]
    assert person.frequency == Subscriber.Frequency.MONTHLY_DIGEST


def test_upemail_sends_a_confirmation_to_the_new_address_and_moves_nothing(client, hook, committed, mailoutbox):
    """The reproduction: an email-change event moved a subscription to another address."""
    topic = TopicFactory(name="Prevention", slug="prevention")
    person = SubscriberFactory(email="old.address@example.org", language="fr")
    person.topics.add(topic)
    body = event("upemail", new_email="new.address@example.org", old_email="old.address@example.org")
    body["data[new_id]"] = "51aa6a1ab6"
    committed(post_twice, client, hook, body)
    person.refresh_from_db()
    assert person.email == "old.address@example.org" and person.status == Subscriber.Status.SUBSCRIBED
    new = Subscriber.objects.get(email="new.address@example.org")
    assert new.status == Subscriber.Status.PENDING  # on the list only after the new address confirms
    assert (list(new.topics.all()), new.language) == ([topic], "fr")
    assert [message.to for message in mailoutbox] == [["new.address@example.org"]]


def test_an_event_dated_in_the_future_is_ignored(client, hook):
    """The reproduction: with the secret, fired_at=2099-... made a subscribe beat any opt-out."""
    person = SubscriberFactory(email="left@example.org", status=Subscriber.Status.UNSUBSCRIBED,
                               unsubscribed_at=timezone.now() - timedelta(minutes=5))
    post_twice(client, hook, {**event("subscribe", person.email), "fired_at": "2099-01-01 00:00:00"})
    person.refresh_from_db()
    assert person.status == Subscriber.Status.UNSUBSCRIBED
    assert not MailchimpMember.objects.filter(subscriber=person).exists()  # nothing pinned in the future either
    # A few seconds of clock skew is normal and accepted.
    post_twice(client, hook, event("subscribe", person.email, fired_at=timezone.now() + timedelta(seconds=30)))
    person.refresh_from_db()
    assert person.status == Subscriber.Status.SUBSCRIBED


def test_an_event_older_than_the_last_change_applied_is_ignored(client, hook):
    person = SubscriberFactory(email="flip@example.org", confirmed_at=timezone.now() - timedelta(days=9))
    post_twice(client, hook, event("unsubscribe", person.email, action="unsub"))
    person.refresh_from_db()
    assert person.status == Subscriber.Status.UNSUBSCRIBED
    # A subscribe fired before that opt-out arrives late (webhooks are not ordered): it changes nothing.
    late = event("subscribe", person.email, fired_at=timezone.now() - timedelta(minutes=10))
    post_twice(client, hook, late)
    person.refresh_from_db()
    assert person.status == Subscriber.Status.UNSUBSCRIBED
    late_upemail = event("upemail", new_email="other@example.org", old_email=person.email,
                         fired_at=timezone.now() - timedelta(minutes=10))
    post_twice(client, hook, late_upemail)
    assert not Subscriber.objects.filter(email="other@example.org").exists()


def test_cleaned_marks_the_address_and_abuse_counts_as_a_complaint(client, hook):
    bouncing = SubscriberFactory(email="gone@example.org")
    annoyed = SubscriberFactory(email="annoyed@example.org")
    post_twice(client, hook, event("cleaned", bouncing.email, reason="hard", campaign_id="4fjk2ma9xd"))
    post_twice(client, hook, event("cleaned", annoyed.email, reason="abuse", campaign_id="4fjk2ma9xd"))
    bouncing.refresh_from_db()
    annoyed.refresh_from_db()
    assert bouncing.status == Subscriber.Status.CLEANED
    assert annoyed.status == Subscriber.Status.COMPLAINED


def test_events_for_another_audience_are_ignored(client, hook):
    person = SubscriberFactory(email="elsewhere@example.org")
    body = event("unsubscribe", person.email, action="unsub")
    body["data[list_id]"] = "someother"
    client.post(hook, body)
    person.refresh_from_db()
    assert person.status == Subscriber.Status.SUBSCRIBED
