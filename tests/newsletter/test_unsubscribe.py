"""One-click unsubscribe (RFC 8058) and the list headers on newsletter emails."""

import re
from email.headerregistry import Address

from django.test import Client

import pytest

from newsletter.models import ConsentRecord, Subscriber
from newsletter.services import tokens
from newsletter.services.emails import send_welcome_email
from tests.newsletter.helpers import path_of, text_part

pytestmark = pytest.mark.django_db


def unsubscribe_path(subscriber) -> str:
    return path_of(tokens.unsubscribe_url(subscriber))


def test_one_click_post_unsubscribes_without_cookies_or_csrf_and_answers_200(subscribed):
    # A mail provider's POST: no cookies, no CSRF token, form-encoded body per RFC 8058.
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        unsubscribe_path(subscribed), data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert "Location" not in response
    assert "You are unsubscribed" in response.content.decode()
    subscribed.refresh_from_db()
    assert subscribed.status == Subscriber.Status.UNSUBSCRIBED
    assert subscribed.unsubscribed_at is not None
    assert subscribed.consents.get().event == ConsentRecord.Event.WITHDRAWN

    # A retry by the provider is harmless and still 200.
    assert client.post(unsubscribe_path(subscribed), data="List-Unsubscribe=One-Click",
                       content_type="application/x-www-form-urlencoded").status_code == 200
    assert subscribed.consents.count() == 1


def test_get_shows_a_button_and_does_not_unsubscribe(client, subscribed):
    path = unsubscribe_path(subscribed)  # once: a token made a second later differs (it carries its time)
    response = client.get(path)

    assert response.status_code == 200
    body = response.content.decode()
    assert "Stop sending the newsletter to" in body
    assert f'action="{path}"' in body and 'method="post"' in body
    assert response["X-Robots-Tag"].startswith("noindex")
    subscribed.refresh_from_db()
    assert subscribed.status == Subscriber.Status.SUBSCRIBED

    # Pressing the button (a plain form POST, no CSRF needed) unsubscribes.
    pressed = Client(enforce_csrf_checks=True).post(path, {"List-Unsubscribe": "One-Click"})
    assert pressed.status_code == 200
    subscribed.refresh_from_db()
    assert subscribed.status == Subscriber.Status.UNSUBSCRIBED


def test_forged_unsubscribe_token_is_refused_and_changes_nothing(subscribed):
    token = tokens.make_token(subscribed, tokens.UNSUBSCRIBE)
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    response = Client(enforce_csrf_checks=True).post(f"/newsletter/unsubscribe/{forged}/",
                                                     data="List-Unsubscribe=One-Click",
                                                     content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    subscribed.refresh_from_db()
    assert subscribed.status == Subscriber.Status.SUBSCRIBED


def test_a_preferences_token_does_not_work_as_an_unsubscribe_token(subscribed):
    token = tokens.make_token(subscribed, tokens.PREFERENCES)
    response = Client().post(f"/newsletter/unsubscribe/{token}/", data="List-Unsubscribe=One-Click",
                             content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    subscribed.refresh_from_db()
    assert subscribed.status == Subscriber.Status.SUBSCRIBED


def test_newsletter_email_headers_are_present_and_well_formed(subscribed, smtp, settings):
    settings.SITE_URL = "https://portal.example.org"
    send_welcome_email(subscribed)

    [message] = smtp.wait_for(1)
    header = message["List-Unsubscribe"].strip()  # long headers may be folded after the colon
    links = re.findall(r"<([^>]+)>", header)
    assert re.fullmatch(r"<[^>]+>(, <[^>]+>)*", header)
    https = [link for link in links if link.startswith("https://")]
    assert len(https) == 1 and https[0].startswith("https://portal.example.org/newsletter/unsubscribe/")
    assert any(link.startswith("mailto:newsletter@example.org?subject=unsubscribe") for link in links)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(r'"[^"]+" <newsletter\.portal\.example\.org>', message["List-Id"].strip())
    # The visible link in the body is the same working one-click URL.
    assert https[0] in text_part(message)
    response = Client().post(path_of(https[0]), data="List-Unsubscribe=One-Click",
                             content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    subscribed.refresh_from_db()
    assert subscribed.status == Subscriber.Status.UNSUBSCRIBED
    assert Address(addr_spec=message["To"].addresses[0].addr_spec).addr_spec == subscribed.email
