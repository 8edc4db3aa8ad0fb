"""Privacy rights: download my data (with consent history), erase my data, and no silent re-import."""

import json

import pytest

from newsletter.models import ConsentRecord, Subscriber, SuppressedAddress
from newsletter.services import subscriptions, tokens
from newsletter.services.privacy import hash_email
from tests.factories import TopicFactory, UserFactory
from tests.newsletter.factories import ConsentRecordFactory, SubscriberFactory
from tests.newsletter.helpers import links_in, path_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(db):
    subscriber = SubscriberFactory(email="Person@example.org", language="de")
    subscriber.topics.add(TopicFactory(name="Prevention", slug="prevention"))
    ConsentRecordFactory(subscriber=subscriber, event=ConsentRecord.Event.GIVEN, form="footer")
    ConsentRecordFactory(subscriber=subscriber, event=ConsentRecord.Event.CONFIRMED, form="confirmation_link")
    return subscriber


def prefs(subscriber, suffix=""):
    return path_of(tokens.preferences_url(subscriber)) + suffix


def emailed_link(mailoutbox, kind: str) -> str:
    """The path of the last emailed export or erase link."""
    message = mailoutbox[-1]
    return next(path_of(link) for link in links_in(message.body) if f"/newsletter/data/{kind}/" in link)


def test_download_my_data_contains_the_consent_history(client, person, committed, mailoutbox):
    asked = committed(client.post, prefs(person, "export/"))
    assert asked.status_code == 200
    assert mailoutbox[-1].to == ["Person@example.org"]
    link = emailed_link(mailoutbox, "export")
    assert client.get(link).status_code == 200  # a button, not the download: link scanners prefetch GETs
    response = client.post(link)

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["email"] == "Person@example.org"
    assert data["language"] == "de"
    assert data["topics"] == ["Prevention"]
    assert [entry["event"] for entry in data["consent_history"]] == ["given", "confirmed"]
    first = data["consent_history"][0]
    assert first["form"] == "footer"
    assert first["consent_text"].startswith("I want to receive")
    assert first["consent_version"] == subscriptions.CONSENT_VERSION
    assert first["browser_family"] == "Firefox"


def test_erasure_removes_the_address_and_keeps_only_a_hash(client, person, committed, mailoutbox):
    committed(client.post, prefs(person, "erase/"))
    link = emailed_link(mailoutbox, "erase")
    page = client.get(link)
    assert "Meine Newsletter-Daten löschen" in page.content.decode()  # the subscriber reads German
    not_confirmed = client.post(link, {})
    assert not_confirmed.status_code == 400
    assert Subscriber.objects.filter(pk=person.pk).exists()

    response = client.post(link, {"confirm": "on"})

    assert response.status_code == 200
    assert "Ihre Daten wurden gelöscht" in response.content.decode()
    assert not Subscriber.objects.filter(email__iexact="person@example.org").exists()
    assert not ConsentRecord.objects.exists()
    suppression = SuppressedAddress.objects.get()
    assert suppression.email_hash == hash_email("person@example.org")
    assert "person" not in suppression.email_hash
    # The old links are dead.
    assert client.get(prefs(person)).status_code == 400
    assert client.get(link).status_code == 400


def test_erased_address_is_skipped_by_a_list_import_and_reported(person):
    staff = UserFactory(is_staff=True)
    subscriptions.unsubscribe(SubscriberFactory(email="left@example.org"))
    from newsletter.services.privacy import erase_subscriber

    erase_subscriber(person)

    rows = [(2, "PERSON@example.org"), (3, "left@example.org"), (4, "new.one@example.org"), (5, "not-an-address"),
            (6, "new.one@example.org")]
    report = subscriptions.import_subscribers(rows, basis="Registration form of the 2025 conference", actor=staff)

    assert report.created == 1
    reasons = {address.lower(): reason for _, address, reason in report.skipped}
    assert reasons["person@example.org"] == subscriptions.SKIP_SUPPRESSED
    assert reasons["left@example.org"] == subscriptions.SKIP_OPTED_OUT
    assert reasons["not-an-address"] == subscriptions.SKIP_INVALID
    assert reasons["new.one@example.org"] == subscriptions.SKIP_DUPLICATE
    assert not Subscriber.objects.filter(email__iexact="person@example.org").exists()
    assert Subscriber.objects.get(email="left@example.org").status == Subscriber.Status.UNSUBSCRIBED
    imported = Subscriber.objects.get(email="new.one@example.org")
    assert imported.status == Subscriber.Status.SUBSCRIBED
    record = imported.consents.get()
    assert (record.event, record.basis, record.actor) == ("imported", "Registration form of the 2025 conference",
                                                          staff)


def test_import_requires_a_consent_basis():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        subscriptions.import_subscribers([(1, "a@example.org")], basis="  ", actor=None)
    assert not Subscriber.objects.exists()


def test_erased_person_can_sign_up_again_through_double_opt_in(client, committed, person, mailoutbox):
    from newsletter.services.privacy import erase_subscriber

    erase_subscriber(person)
    committed(client.post, "/newsletter/subscribe/", {"email": "person@example.org", "consent": "on"})
    again = Subscriber.objects.get(email__iexact="person@example.org")
    assert again.status == Subscriber.Status.PENDING
    assert SuppressedAddress.objects.exists()  # until they confirm

    committed(client.post, path_of(tokens.confirm_url(again)))

    again.refresh_from_db()
    assert again.status == Subscriber.Status.SUBSCRIBED
    assert not SuppressedAddress.objects.exists()


def test_preference_centre_changes_topics_frequency_language_and_unsubscribes(client, person, committed, mailoutbox):
    other = TopicFactory(name="Hotline operations", slug="operations")
    page = client.get(prefs(person))
    assert page.status_code == 200
    assert page["Referrer-Policy"] == "same-origin"
    assert "Person@example.org" in page.content.decode()

    saved = client.post(prefs(person), {"topics": ["operations"], "frequency": "monthly_digest", "language": "fr"})

    assert "Ihre Einstellungen sind gespeichert" in saved.content.decode()  # the page is still German
    person.refresh_from_db()
    assert (list(person.topics.all()), person.frequency, person.language) == ([other], "monthly_digest", "fr")

    left = client.post(prefs(person, "unsubscribe/"))
    assert "Vous êtes désabonné" in left.content.decode()  # in the language just chosen (fr)
    person.refresh_from_db()
    assert person.status == Subscriber.Status.UNSUBSCRIBED

    # Coming back needs a fresh consent tick, then the confirmation link mailed to the address.
    refused = client.post(prefs(person, "resubscribe/"), {})
    assert refused.status_code == 400
    back = committed(client.post, prefs(person, "resubscribe/"), {"consent": "on"})
    assert back.status_code == 200
    person.refresh_from_db()
    assert person.status == Subscriber.Status.PENDING
    assert mailoutbox[-1].to == ["Person@example.org"]
    committed(client.post, path_of(tokens.confirm_url(person)))
    person.refresh_from_db()
    assert person.status == Subscriber.Status.SUBSCRIBED
    assert list(person.consents.values_list("event", flat=True))[-3:] == ["withdrawn", "given", "confirmed"]


def test_preference_pages_use_a_bounded_number_of_queries(client, person, django_assert_max_num_queries):
    for n in range(5):
        TopicFactory(name=f"Extra topic {n}", slug=f"extra-{n}")
    with django_assert_max_num_queries(20):
        response = client.get(prefs(person))
    assert response.status_code == 200
