"""The wrapped official client against the fake: configuration, retries, limits and error mapping."""

import threading

import pytest

from newsletter.mailchimp.client import (
    Mailchimp,
    MailchimpNotConfigured,
    MailchimpNotFound,
    MailchimpRejected,
    MailchimpUnavailable,
)

LIST = "a1b2c3d4e5"


def test_base_url_goes_to_the_client_and_timeouts_are_set(fake_mailchimp):
    api = Mailchimp()
    assert api.client.api_client.host == fake_mailchimp.base_url
    assert api.client.api_client.timeout == (10, 120.0)
    assert api.ping() == {"health_status": "Everything's Chimpy!"}


def test_a_base_url_containing_server_is_refused(settings, fake_mailchimp):
    settings.MAILCHIMP_API_BASE = "http://mailchimp-server.internal/3.0"
    with pytest.raises(MailchimpNotConfigured, match="server"):
        Mailchimp()


def test_missing_key_is_reported(settings):
    settings.MAILCHIMP_API_KEY = ""
    with pytest.raises(MailchimpNotConfigured):
        Mailchimp()


def test_errors_become_our_exceptions_with_the_request_id(fake_mailchimp):
    api = Mailchimp()
    with pytest.raises(MailchimpNotFound) as missing:
        api.call(lambda c: c.lists.get_list_member(LIST, "0" * 32))
    assert missing.value.status == 404 and missing.value.title == "Resource Not Found"
    assert len(missing.value.request_id) == 36
    with pytest.raises(MailchimpRejected) as invalid:
        api.call(lambda c: c.lists.add_list_member(LIST, {"email_address": "AAAAA", "status": "subscribed"}))
    assert invalid.value.status == 400 and "valid email" in invalid.value.detail


def test_wrong_key_is_rejected_not_retried(settings, fake_mailchimp):
    settings.MAILCHIMP_API_KEY = "wrong-us1"
    with pytest.raises(MailchimpRejected) as excinfo:
        Mailchimp().ping()
    assert excinfo.value.status == 401
    assert len(fake_mailchimp.calls) == 1


def test_empty_success_and_empty_error_bodies_are_handled(fake_mailchimp):
    """The client returns a raw response instead of raising when the body is empty."""
    api = Mailchimp(max_retries=0)
    fake_mailchimp.add_member("tagged@example.org")
    from newsletter.mailchimp.client import subscriber_hash

    assert api.call(lambda c: c.lists.update_list_member_tags(
        LIST, subscriber_hash("tagged@example.org"), {"tags": [{"name": "vip", "status": "active"}]})) is None
    fake_mailchimp.fail_next(502, empty=True)
    with pytest.raises(MailchimpUnavailable) as excinfo:
        api.ping()
    assert excinfo.value.status == 502
    fake_mailchimp.fail_next(400, empty=True)
    with pytest.raises(MailchimpRejected):
        api.ping()


def test_429_and_5xx_and_dropped_connections_are_retried_with_backoff(fake_mailchimp, settings):
    settings.MAILCHIMP_MAX_RETRIES = 3
    fake_mailchimp.fail_next(429)
    fake_mailchimp.fail_next(500)
    fake_mailchimp.drop_next()
    api = Mailchimp()
    assert api.ping()["health_status"]
    assert api.calls == 4

    fake_mailchimp.fail_next(503, times=10)
    with pytest.raises(MailchimpUnavailable):
        Mailchimp().ping()


def test_backoff_grows_with_jitter_and_a_cap(settings, fake_mailchimp):
    settings.MAILCHIMP_RETRY_BASE_SECONDS = 1
    settings.MAILCHIMP_RETRY_MAX_SECONDS = 8
    api = Mailchimp()
    first = [api.backoff(0) for _ in range(50)]
    late = [api.backoff(10) for _ in range(50)]
    assert min(first) >= 0.5 and max(first) < 1.5 and len(set(first)) > 1
    assert max(late) < 12 and min(late) >= 4


def test_the_request_timeout_is_respected(settings, fake_mailchimp):
    settings.MAILCHIMP_TIMEOUT = 0.2
    settings.MAILCHIMP_MAX_RETRIES = 1
    fake_mailchimp.latency = 0.5
    with pytest.raises(MailchimpUnavailable, match=r"timed out"):
        Mailchimp().ping()


def test_at_most_ten_requests_at_once(settings, fake_mailchimp):
    fake_mailchimp.latency = 0.15
    api = Mailchimp()
    threads = [threading.Thread(target=api.ping) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fake_mailchimp.calls) == 30
    assert 2 <= fake_mailchimp.max_in_flight <= 10  # Mailchimp allows 10 connections per key
