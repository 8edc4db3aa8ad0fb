"""The demo seed gives the admin something to show and can be run again safely."""

import io

import pytest

from newsletter.models import Subscriber
from portal.demo import newsletter as demo
from tests.factories import TopicFactory

pytestmark = pytest.mark.django_db


def test_seed_is_idempotent_and_uses_example_org_addresses():
    TopicFactory(name="Prevention", slug="prevention")
    out = io.StringIO()
    demo.seed(out)
    demo.seed(out)

    subscribers = list(Subscriber.objects.all())
    assert len(subscribers) == len(demo.DEMO_SUBSCRIBERS)
    assert all(s.email.endswith("@example.org") for s in subscribers)
    assert {s.status for s in subscribers} == {"subscribed", "pending", "unsubscribed"}
    assert all(s.consents.exists() for s in subscribers)
    assert "0 demo subscribers created (5 already there)" in out.getvalue()
