"""Emailed links: tampered, expired and reused tokens are refused clearly; resending never reveals anything."""

import time

from django.core import signing

import pytest

from newsletter.models import Subscriber
from newsletter.services import subscriptions, tokens
from tests.newsletter.factories import SubscriberFactory
from tests.newsletter.helpers import path_of

pytestmark = pytest.mark.django_db


def confirm_path(subscriber) -> str:
    return path_of(tokens.confirm_url(subscriber))


def test_tampered_confirmation_link_is_refused_with_a_resend_form(client, pending):
    token = tokens.make_token(pending, tokens.CONFIRM)
    _payload, rest = token.split(":", 1)
    other = SubscriberFactory(status=Subscriber.Status.PENDING)
    # Swap the payload for another subscriber's id while keeping the old signature.
    forged_payload = signing.b64_encode(f'[{other.pk},"{other.token_key}"]'.encode()).decode()
    response = client.get(f"/newsletter/confirm/{forged_payload}:{rest}/")

    assert response.status_code == 400
    body = response.content.decode()
    assert "This link is not valid" in body
    assert 'action="/newsletter/confirm/resend/"' in body
    other.refresh_from_db()
    pending.refresh_from_db()
    assert (other.status, pending.status) == ("pending", "pending")


def test_expired_confirmation_link_is_refused_and_offers_a_new_one(client, pending, settings, monkeypatch):
    settings.NEWSLETTER_CONFIRM_TOKEN_MAX_AGE = 60
    url = confirm_path(pending)
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 61)  # signing reads time.time()

    response = client.get(url)

    assert response.status_code == 400
    assert "This link has expired" in response.content.decode()
    assert "Send a new link" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == Subscriber.Status.PENDING


def test_confirmation_link_cannot_resubscribe_after_unsubscribing(client, committed, pending):
    url = confirm_path(pending)
    committed(client.post, url)
    pending.refresh_from_db()
    subscriptions.unsubscribe(pending)

    reused = client.post(url)

    assert reused.status_code == 400
    assert "already been used" in reused.content.decode()
    pending.refresh_from_db()
    assert pending.status == Subscriber.Status.UNSUBSCRIBED


def test_links_from_before_a_new_signup_or_rotation_are_refused(client, subscribed):
    old_preferences = path_of(tokens.preferences_url(subscribed))
    assert client.get(old_preferences).status_code == 200
    subscriptions.rotate_links(subscribed)

    response = client.get(old_preferences)

    assert response.status_code == 400
    assert "no longer valid" in response.content.decode()
    assert client.get(path_of(tokens.preferences_url(subscribed))).status_code == 200


def test_token_purposes_do_not_mix(subscribed):
    with pytest.raises(tokens.TokenInvalid):
        tokens.read_token(tokens.make_token(subscribed, tokens.UNSUBSCRIBE), tokens.CONFIRM)


def test_resend_form_sends_only_to_pending_addresses_and_answers_the_same(client, committed, pending, subscribed,
                                                                          settings, mailoutbox):
    settings.NEWSLETTER_CONFIRMATION_RESEND_COOLDOWN = 0
    answers = [committed(client.post, "/newsletter/confirm/resend/", {"email": address})
               for address in (pending.email, subscribed.email, "unknown@example.org")]

    assert {answer.status_code for answer in answers} == {200}
    assert all("Check your inbox" in answer.content.decode() for answer in answers)
    assert [message.to for message in mailoutbox] == [[pending.email]]
    assert "/newsletter/confirm/" in mailoutbox[0].body
