"""The list-header builder the sending work reuses for every newsletter email."""

import pytest

from newsletter.services.headers import list_headers, list_id, subscriber_list_headers


def test_list_headers_for_a_prepared_url(settings):
    settings.SITE_URL = "https://portal.example.org"
    settings.NEWSLETTER_UNSUBSCRIBE_MAILTO = "leave@portal.example.org"
    headers = list_headers("https://portal.example.org/newsletter/unsubscribe/abc/")
    assert headers == {
        "List-Unsubscribe": "<https://portal.example.org/newsletter/unsubscribe/abc/>, "
                            "<mailto:leave@portal.example.org?subject=unsubscribe>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": '"Hotline Network Portal newsletter" <newsletter.portal.example.org>',
    }


def test_a_plain_http_site_offers_no_http_link_and_claims_no_one_click(settings):
    # The demo runs on http://127.0.0.1:8000: RFC 8058 allows only an https URL with List-Unsubscribe-Post.
    settings.NEWSLETTER_UNSUBSCRIBE_MAILTO = "leave@portal.example.org"
    headers = list_headers("http://127.0.0.1:8000/newsletter/unsubscribe/abc/")
    assert headers["List-Unsubscribe"] == "<mailto:leave@portal.example.org?subject=unsubscribe>"
    assert "List-Unsubscribe-Post" not in headers
    assert not any("http:" in value for value in headers.values())


def test_mailto_defaults_to_the_sender_address(settings):
    settings.NEWSLETTER_UNSUBSCRIBE_MAILTO = ""
    settings.NEWSLETTER_FROM_EMAIL = "Hotline News <news@portal.example.org>"
    assert "<mailto:news@portal.example.org?subject=unsubscribe>" in list_headers("https://x/u/")["List-Unsubscribe"]


def test_list_id_can_be_configured(settings):
    settings.NEWSLETTER_LIST_ID = "updates.hotlines.example"
    assert list_id().endswith("<updates.hotlines.example>")


@pytest.mark.django_db
def test_subscriber_headers_carry_a_personal_working_link(settings):
    settings.SITE_URL = "https://testserver"  # RFC 8058 one-click needs an https link
    from django.test import Client

    from tests.newsletter.factories import SubscriberFactory

    first, second = SubscriberFactory(), SubscriberFactory()
    url_first = subscriber_list_headers(first)["List-Unsubscribe"].split(">")[0][1:]
    url_second = subscriber_list_headers(second)["List-Unsubscribe"].split(">")[0][1:]
    assert url_first != url_second
    assert url_first.startswith(settings.SITE_URL + "/newsletter/unsubscribe/")
    Client().post(url_first.replace(settings.SITE_URL, ""), data="List-Unsubscribe=One-Click",
                  content_type="application/x-www-form-urlencoded")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("unsubscribed", "subscribed")
