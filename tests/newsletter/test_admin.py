"""The subscribers admin: browse, search, filter, CSV export, list import, staff export/erase, dashboard panel."""

import json

from django.urls import reverse

from wagtail.models import ModelLogEntry

import pytest

from newsletter.models import Subscriber, SuppressedAddress
from tests.factories import TopicFactory, UserFactory
from tests.newsletter.factories import ConsentRecordFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = UserFactory(username="editor-admin", is_staff=True, is_superuser=True)
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def listing(db):
    prevention = TopicFactory(name="Prevention", slug="prevention")
    alice = SubscriberFactory(email="alice@example.org", status="subscribed")
    alice.topics.add(prevention)
    SubscriberFactory(email="bob@example.org", status="pending")
    SubscriberFactory(email="=cmd|calc@example.org", status="unsubscribed")
    return {"prevention": prevention, "alice": alice}


def test_index_lists_searches_and_filters(admin_client, listing, django_assert_max_num_queries):
    url = reverse("newsletter_subscribers:index")
    with django_assert_max_num_queries(40):
        page = admin_client.get(url)
    body = page.content.decode()
    assert page.status_code == 200
    assert "alice@example.org" in body and "bob@example.org" in body

    pending = admin_client.get(url, {"status": "pending"}).content.decode()
    assert "bob@example.org" in pending and "alice@example.org" not in pending

    by_topic = admin_client.get(url, {"topics": listing["prevention"].pk}).content.decode()
    assert "alice@example.org" in by_topic and "bob@example.org" not in by_topic

    searched = admin_client.get(url, {"q": "bob"}).content.decode()
    assert "bob@example.org" in searched and "alice@example.org" not in searched

    assert "Import a list" in body
    assert reverse("newsletter_subscribers:add") not in body


def test_index_filters_by_signup_date(admin_client, listing):
    from datetime import timedelta

    from django.utils import timezone

    SubscriberFactory(email="veteran@example.org", created_at=timezone.now() - timedelta(days=400))
    cutoff = (timezone.now() - timedelta(days=30)).date().isoformat()
    url = reverse("newsletter_subscribers:index")

    recent = admin_client.get(url, {"created_at_from": cutoff}).content.decode()
    older = admin_client.get(url, {"created_at_to": cutoff}).content.decode()

    assert "alice@example.org" in recent and "veteran@example.org" not in recent
    assert "veteran@example.org" in older and "alice@example.org" not in older


def test_nobody_can_add_subscribers_by_hand(admin_client):
    response = admin_client.get(reverse("newsletter_subscribers:add"))
    assert response.status_code in (302, 403)
    assert not Subscriber.objects.exists()


def test_csv_export_has_topics_and_neutralises_formulas(admin_client, listing):
    response = admin_client.get(reverse("newsletter_subscribers:index"), {"export": "csv"})
    content = b"".join(response.streaming_content).decode()
    lines = content.strip().splitlines()
    assert lines[0].startswith("Email,Status")
    assert any(line.startswith("alice@example.org,subscribed") and "Prevention" in line for line in lines)
    assert any(line.startswith("'=cmd|calc@example.org") for line in lines)


def test_import_requires_consent_basis_and_skips_people_who_left(admin_client, listing):
    url = reverse("newsletter_subscribers:import")
    from django.core.files.uploadedfile import SimpleUploadedFile

    def upload():
        return SimpleUploadedFile("list.csv", b"email\nnew@example.org\n=cmd|calc@example.org\nalice@example.org\n",
                                  content_type="text/csv")

    refused = admin_client.post(url, {"csv_file": upload(), "consent_basis": "", "language": "en", "confirm": "on"})
    assert refused.status_code == 200
    assert "This field is required" in refused.content.decode()
    assert not Subscriber.objects.filter(email="new@example.org").exists()

    response = admin_client.post(url, {
        "csv_file": upload(), "consent_basis": "Ticked the newsletter box at the 2025 conference",
        "language": "en", "topics": ["prevention"], "confirm": "on",
    })

    body = response.content.decode()
    assert "1 address added; 2 skipped" in body
    assert "never re-added by import" in body and "already subscribed" in body
    new = Subscriber.objects.get(email="new@example.org")
    assert new.status == "subscribed" and list(new.topics.all()) == [listing["prevention"]]
    assert new.consents.get().actor == admin_client.user
    assert Subscriber.objects.get(email="=cmd|calc@example.org").status == "unsubscribed"


def test_staff_export_downloads_json_and_is_audit_logged(admin_client, listing):
    ConsentRecordFactory(subscriber=listing["alice"])
    response = admin_client.get(reverse("newsletter_subscribers:export_data", args=[listing["alice"].pk]))
    data = json.loads(response.content)
    assert data["email"] == "alice@example.org"
    assert len(data["consent_history"]) == 1
    entry = ModelLogEntry.objects.get(action="newsletter.subscriber.export")
    assert entry.user == admin_client.user
    assert "alice" not in entry.label


def test_staff_erase_keeps_only_a_hash_and_logs_who_did_it(admin_client, listing):
    alice = listing["alice"]
    url = reverse("newsletter_subscribers:delete", args=[alice.pk])
    confirm_page = admin_client.get(url)
    assert "one-way hash" in confirm_page.content.decode()

    admin_client.post(url)

    assert not Subscriber.objects.filter(pk=alice.pk).exists()
    assert SuppressedAddress.objects.count() == 1
    entry = ModelLogEntry.objects.get(action="newsletter.subscriber.erase")
    assert entry.user == admin_client.user and entry.data["via"] == "admin"
    assert not ModelLogEntry.objects.filter(label__icontains="alice").exists()


def test_dashboard_panel_counts_statuses_and_topics(admin_client, listing):
    body = admin_client.get(reverse("wagtailadmin_home")).content.decode()
    assert "Newsletter subscribers" in body
    assert "Pending confirmation" in body and "Prevention" in body


def test_editor_without_permission_cannot_see_subscribers(client, listing):
    user = UserFactory(is_staff=True)
    from django.contrib.auth.models import Permission

    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(user)
    assert client.get(reverse("newsletter_subscribers:index")).status_code in (302, 403)
    export = client.get(reverse("newsletter_subscribers:export_data", args=[listing["alice"].pk]))
    assert export.status_code in (302, 403) and export["Content-Type"] != "application/json"
    assert "Newsletter subscribers" not in client.get(reverse("wagtailadmin_home")).content.decode()
