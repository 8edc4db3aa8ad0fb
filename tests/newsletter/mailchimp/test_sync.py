"""Audience sync against the fake Mailchimp over HTTP with the official client."""

from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

import pytest

from newsletter.mailchimp import sync
from newsletter.mailchimp.client import MailchimpUnavailable
from newsletter.models import ConsentRecord, MailchimpMember, MailchimpSyncState, Subscriber
from newsletter.services import subscriptions
from tests.newsletter.factories import SubscriberFactory

LIST = "a1b2c3d4e5"
BATCH = rf"/3.0/lists/{LIST}"

pytestmark = pytest.mark.django_db


def make_subscribers(count: int, **kwargs) -> list[Subscriber]:
    now = timezone.now()
    Subscriber.objects.bulk_create([
        Subscriber(email=f"reader{n}@example.org", status=Subscriber.Status.SUBSCRIBED, confirmed_at=now, **kwargs)
        for n in range(count)
    ])
    return list(Subscriber.objects.order_by("id"))


def batch_calls(fake):
    return fake.calls_to("POST", BATCH)


def test_1234_subscribers_take_three_batch_calls(fake_mailchimp):
    make_subscribers(1234)

    summary = sync.run_sync()

    assert len(batch_calls(fake_mailchimp)) == 3
    assert [len(batch) for batch in fake_mailchimp.batches] == [500, 500, 234]
    audience = fake_mailchimp.lists[LIST]
    assert len(audience.members) == 1234
    assert {m.status for m in audience.members.values()} == {"subscribed"}
    assert fake_mailchimp.member("reader7@example.org").merge_fields == {"FREQUENCY": "every_issue"}
    assert summary.pushed == 1234
    state = MailchimpSyncState.objects.get(audience_id=LIST)
    assert state.phase == "done" and state.done == state.total == 1234


def test_second_sync_pushes_only_what_changed_and_an_unchanged_one_makes_at_most_two_calls(fake_mailchimp, topics):
    people = make_subscribers(40)
    sync.run_sync()
    fake_mailchimp.reset_calls()
    fake_mailchimp.batches.clear()

    subscriptions.unsubscribe(people[0])
    subscriptions.update_preferences(people[1], topics=[topics[0]], frequency=Subscriber.Frequency.MONTHLY_DIGEST,
                                     language="fr")
    people[2].topics.add(topics[1])
    sync.run_sync()

    assert len(batch_calls(fake_mailchimp)) == 1
    assert sorted(fake_mailchimp.batches[0]) == sorted(p.email for p in people[:3])
    assert fake_mailchimp.member(people[0].email).status == "unsubscribed"
    second = fake_mailchimp.member(people[1].email)
    assert second.language == "fr" and second.merge_fields["FREQUENCY"] == "monthly_digest"
    interests = MailchimpSyncState.objects.get().topic_interests
    assert second.interests[interests[str(topics[0].pk)]] is True
    assert fake_mailchimp.member(people[2].email).interests[interests[str(topics[1].pk)]] is True

    fake_mailchimp.reset_calls()
    summary = sync.run_sync()
    assert len(fake_mailchimp.calls) <= 2
    assert batch_calls(fake_mailchimp) == []
    assert summary.pushed == 0


def test_failure_after_the_first_batch_then_resume_completes_without_duplicates(fake_mailchimp, settings):
    settings.MAILCHIMP_MAX_RETRIES = 1
    make_subscribers(1234)
    fake_mailchimp.fail_next(503, times=50, path=rf"/lists/{LIST}", method="POST", after=1)

    with pytest.raises(MailchimpUnavailable):
        sync.run_sync()

    state = MailchimpSyncState.objects.get()
    assert state.phase == "failed" and "503" in state.last_error
    assert [len(batch) for batch in fake_mailchimp.batches] == [500]
    assert state.push_cursor is None  # cursors move only after a complete run

    fake_mailchimp.clear_faults()
    sync.run_sync()

    pushed = [email for batch in fake_mailchimp.batches for email in batch]
    assert len(pushed) == len(set(pushed)) == 1234
    assert len(fake_mailchimp.lists[LIST].members) == 1234


def test_unsubscribed_in_mailchimp_is_never_resubscribed(fake_mailchimp):
    long_ago = timezone.now() - timedelta(days=30)
    person = SubscriberFactory(email="left.in.mailchimp@example.org", confirmed_at=long_ago)
    fake_mailchimp.add_member(person.email, status="unsubscribed")

    sync.run_sync()

    person.refresh_from_db()
    assert person.status == Subscriber.Status.UNSUBSCRIBED  # the opt-out made in Mailchimp reached us
    withdrawn = person.consents.get(event=ConsentRecord.Event.WITHDRAWN)
    assert withdrawn.form == "mailchimp"
    assert fake_mailchimp.member(person.email).status == "unsubscribed"
    assert all(person.email not in batch for batch in fake_mailchimp.batches)

    # Later local changes (language) still never push them as subscribed.
    subscriptions.update_preferences(person, topics=[], frequency=person.frequency, language="de")
    sync.run_sync()
    assert fake_mailchimp.member(person.email).status == "unsubscribed"


def test_compliance_refusal_is_recorded_and_not_retried(fake_mailchimp):
    """Mailchimp knows an opt-out we never pulled (older than the cursor): it refuses, we remember."""
    person = SubscriberFactory(email="compliance@example.org", confirmed_at=timezone.now() - timedelta(days=9))
    fake_mailchimp.add_member(person.email, status="cleaned",
                              last_changed=timezone.now() - timedelta(days=400))
    MailchimpSyncState.objects.create(audience_id=LIST, pull_cursor=(timezone.now() - timedelta(days=1)).isoformat())

    summary = sync.run_sync()

    assert summary.skipped_compliance == 1
    assert fake_mailchimp.member(person.email).status == "cleaned"
    assert MailchimpMember.objects.get(subscriber=person).remote_status == "unsubscribed"
    fake_mailchimp.batches.clear()
    subscriptions.update_preferences(person, topics=[], frequency=person.frequency, language="it")
    sync.run_sync()
    assert fake_mailchimp.batches == []


def test_reconfirmed_after_leaving_mailchimp_is_pushed_as_pending(fake_mailchimp):
    person = SubscriberFactory(email="came.back@example.org", confirmed_at=timezone.now() - timedelta(days=60))
    fake_mailchimp.add_member(person.email, status="unsubscribed", last_changed=timezone.now() - timedelta(days=5))
    sync.run_sync()
    person.refresh_from_db()
    assert person.status == Subscriber.Status.UNSUBSCRIBED

    subscriptions.resubscribe(person)  # a proven opt-in with us, after the opt-out in Mailchimp
    sync.run_sync()

    member = fake_mailchimp.member(person.email)
    assert member.status == "pending"  # Mailchimp asks them to confirm itself
    assert member.confirmation_emails == 1


def test_changes_made_in_mailchimp_are_pulled(fake_mailchimp):
    bouncing = SubscriberFactory(email="bouncing@example.org", confirmed_at=timezone.now() - timedelta(days=3))
    fake_mailchimp.add_member(bouncing.email, status="cleaned")
    fake_mailchimp.add_member("joined.in.mailchimp@example.org", status="subscribed", language="nl")

    sync.run_sync()

    bouncing.refresh_from_db()
    assert bouncing.status == Subscriber.Status.CLEANED
    joined = Subscriber.objects.get(email="joined.in.mailchimp@example.org")
    assert joined.status == Subscriber.Status.SUBSCRIBED and joined.language == "nl"
    assert joined.consents.get().event == ConsentRecord.Event.IMPORTED


def test_pull_pages_by_a_thousand(fake_mailchimp):
    for n in range(1500):
        fake_mailchimp.add_member(f"mc{n}@example.org", status="unsubscribed")

    summary = sync.run_sync()

    pages = fake_mailchimp.calls_to("GET", rf"/3.0/lists/{LIST}/members")
    assert [call[2]["count"] for call in pages] == ["1000", "1000"]
    assert summary.pulled == 1500
    assert Subscriber.objects.count() == 0  # unknown people who left are not copied here


def test_queryset_updates_and_topic_changes_move_the_change_cursor(db, topics):
    import time

    person = SubscriberFactory()
    first = Subscriber.objects.get(pk=person.pk).updated_at
    time.sleep(0.01)  # SQLite's clock in triggers counts milliseconds
    Subscriber.objects.filter(pk=person.pk).update(status=Subscriber.Status.UNSUBSCRIBED)
    second = Subscriber.objects.get(pk=person.pk).updated_at
    time.sleep(0.01)
    Subscriber.objects.filter(pk=person.pk).update(token_key="unrelated")  # not synced: the cursor stays
    assert Subscriber.objects.get(pk=person.pk).updated_at == second
    person.topics.add(topics[0])
    third = Subscriber.objects.get(pk=person.pk).updated_at
    assert first < second < third


def test_command_prints_progress_and_summary(fake_mailchimp, capsys):
    make_subscribers(3)
    call_command("mailchimp_sync", "--full")
    out = capsys.readouterr().out
    assert "push: 3/3" in out
    assert "pushed 3" in out


def test_admin_page_shows_sync_progress_and_starts_a_sync(client, fake_mailchimp, committed):
    from django.contrib.auth.models import Group
    from django.urls import reverse

    from tests.factories import UserFactory

    make_subscribers(3)
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    editor = UserFactory(username="editor", is_staff=True, groups=[Group.objects.get(name="Editors")])
    url = reverse("mailchimp_sync")

    client.force_login(editor)
    refused = client.get(url)
    assert refused.status_code in (302, 403)  # Wagtail turns PermissionDenied into a redirect with a message
    assert client.post(url, {}).status_code in (302, 403)
    assert fake_mailchimp.calls == []

    client.force_login(admin)
    assert "No sync has run yet." in client.get(url).content.decode()
    response = committed(client.post, url, {})
    assert response.status_code == 302
    html = client.get(url).content.decode()
    assert "<strong>Status: done</strong>" in html
    assert "<td>3 in 1 batches</td>" in html
    assert len(fake_mailchimp.lists[LIST].members) == 3


def test_erased_subscriber_is_deleted_permanently_from_mailchimp(fake_mailchimp, committed):
    from newsletter.services.privacy import erase_subscriber

    person = SubscriberFactory(email="erase.me@example.org", confirmed_at=timezone.now())
    sync.run_sync()
    assert fake_mailchimp.member(person.email) is not None

    committed(erase_subscriber, person)

    assert fake_mailchimp.member(person.email) is None
    assert fake_mailchimp.calls_to("POST", rf"/3.0/lists/{LIST}/members/[0-9a-f]{{32}}/actions/delete-permanent")


def test_sync_task_does_nothing_without_configuration(settings):
    from newsletter.tasks import mailchimp_sync

    settings.MAILCHIMP_API_KEY = ""
    assert mailchimp_sync.delay().get() == {"skipped": "Mailchimp is not configured"}


def test_sync_task_runs_the_sync(fake_mailchimp):
    from newsletter.tasks import mailchimp_sync

    make_subscribers(2)
    assert mailchimp_sync.delay().get()["pushed"] == 2


def test_syncs_never_overlap(fake_mailchimp):
    from newsletter.tasks import mailchimp_sync

    make_subscribers(2)
    with sync.sync_lock():
        with pytest.raises(sync.SyncBusy):
            sync.run_sync()
        assert mailchimp_sync.delay().get() == {"skipped": "another sync is running"}
    assert fake_mailchimp.calls == []
    assert sync.run_sync().pushed == 2
