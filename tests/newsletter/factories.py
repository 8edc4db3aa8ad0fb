"""Factories for newsletter subscribers and consent records."""

import factory

from newsletter.models import ConsentRecord, Subscriber
from newsletter.services.subscriptions import CONSENT_TEXT, CONSENT_VERSION


class SubscriberFactory(factory.django.DjangoModelFactory):
    email = factory.Sequence(lambda n: f"reader{n}@example.org")
    status = Subscriber.Status.SUBSCRIBED
    language = "en"

    class Meta:
        model = Subscriber


class ConsentRecordFactory(factory.django.DjangoModelFactory):
    subscriber = factory.SubFactory(SubscriberFactory)
    event = ConsentRecord.Event.GIVEN
    consent_text = CONSENT_TEXT
    consent_version = CONSENT_VERSION
    form = "signup_page"
    ip_hash = "0" * 64
    user_agent_family = "Firefox"

    class Meta:
        model = ConsentRecord
