"""A fake Mailchimp on loopback with the settings pointing the real client at it."""

import pytest

from tests.fakes.mailchimp import FakeMailchimp


@pytest.fixture
def fake_mailchimp(settings):
    with FakeMailchimp() as fake:
        settings.MAILCHIMP_API_KEY = fake.api_key
        settings.MAILCHIMP_SERVER_PREFIX = "us1"
        settings.MAILCHIMP_AUDIENCE_ID = fake.list_id
        settings.MAILCHIMP_API_BASE = fake.base_url
        settings.MAILCHIMP_RETRY_BASE_SECONDS = 0.01
        settings.MAILCHIMP_RETRY_MAX_SECONDS = 0.05
        settings.MAILCHIMP_MAX_RETRIES = 3
        settings.MAILCHIMP_WEBHOOK_SECRET = "s3cret-hook"
        yield fake
