"""Fixtures for the newsletter tests: topics, subscribers in each state, a real SMTP sink, a clean cache."""

from __future__ import annotations

from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone

import pytest

from newsletter.models import Subscriber
from tests.dovecot import ThrowawayDovecot, require_dovecot
from tests.factories import TopicFactory
from tests.newsletter.factories import SubscriberFactory
from tests.smtp_sink import SMTPSink


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache: every test starts from zero."""
    cache.clear()
    yield
    cache.clear()




@pytest.fixture
def topics(db):
    return [
        TopicFactory(name="Notice and takedown", slug="notice-and-takedown"),
        TopicFactory(name="Prevention", slug="prevention"),
    ]


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback, with Django's SMTP backend pointed at it."""
    with SMTPSink() as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = sink.host
        settings.EMAIL_PORT = sink.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_TIMEOUT = 10
        yield sink


@pytest.fixture
def subscribed(db):
    return SubscriberFactory(email="member.of.list@example.org", status=Subscriber.Status.SUBSCRIBED)


@pytest.fixture
def pending(db):
    """A pending signup whose confirmation email went out a minute ago."""
    return SubscriberFactory(email="waiting@example.org", status=Subscriber.Status.PENDING,
                             confirmation_sent_at=timezone.now() - timedelta(minutes=1))


@pytest.fixture
def dovecot(settings):
    """A throwaway Dovecot IMAP server on loopback, with the bounce-mailbox settings pointed at it."""
    require_dovecot()
    server = ThrowawayDovecot().start()
    for name, value in server.settings().items():
        setattr(settings, name, value)
    yield server
    server.stop()
