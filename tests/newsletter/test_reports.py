"""Send reports: bounces and complaints suppress the address; unsubscribes after an issue are counted."""

import json

from django.urls import reverse

import pytest

from newsletter.models import Delivery, Send, Subscriber
from newsletter.services import dispatch, subscriptions
from newsletter.tasks import start_send
from tests.newsletter.factories import SubscriberFactory
from tests.newsletter.issue_factories import NewsletterIndexPageFactory, make_issue


@pytest.fixture
def sent(home, smtp, settings):
    settings.NEWSLETTER_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    for name in ["reader", "bouncer", "complainer", "leaver"]:
        SubscriberFactory(email=f"{name}@example.org")
    SubscriberFactory(email="nobody@example.org")
    smtp.refuse["nobody@example.org"] = (550, "5.1.1 <nobody@example.org>: Recipient address rejected")
    issue = make_issue(NewsletterIndexPageFactory(parent=home))
    send, _ = dispatch.create_send(issue)
    start_send.delay(send.pk)
    send.refresh_from_db()
    assert send.status == Send.Status.DONE
    return send


def post_events(client, secret, events):
    return client.post(reverse("newsletter:bounce_webhook", args=[secret]), data=json.dumps(events),
                       content_type="application/json")


def test_hard_bounce_during_delivery_cleans_the_address(sent):
    failed = Delivery.objects.get(send=sent, email="nobody@example.org")
    assert failed.status == Delivery.Status.FAILED and "Recipient address rejected" in failed.error
    assert Subscriber.objects.get(email="nobody@example.org").status == Subscriber.Status.CLEANED


def test_webhook_reports_suppress_and_show_in_the_report(client, settings, sent):
    settings.NEWSLETTER_WEBHOOK_SECRET = "s3cret-webhook"
    response = post_events(client, "s3cret-webhook", [
        {"email": "Bouncer@Example.org", "type": "bounce", "send_id": sent.pk, "detail": "mailbox full for good"},
        {"email": "complainer@example.org", "type": "complaint"},
    ])
    assert response.status_code == 200 and response.json() == {"recorded": 2, "known_addresses": 2}
    assert Subscriber.objects.get(email="bouncer@example.org").status == Subscriber.Status.CLEANED
    assert Subscriber.objects.get(email="complainer@example.org").status == Subscriber.Status.COMPLAINED
    subscriptions.unsubscribe(Subscriber.objects.get(email="leaver@example.org"))

    report = dispatch.progress(sent)
    # The complaint was delivered (and complained about): only the bounce is counted as bounced.
    assert report["sent"] == 3 and report["bounced"] == 1 and report["failed"] == 1
    assert report["unsubscribed_after"] == 2  # the leaver and the complainer

    # Replaying the same events changes nothing more.
    assert post_events(client, "s3cret-webhook", {"email": "bouncer@example.org", "type": "bounce"}).status_code == 200
    assert dispatch.progress(sent)["bounced"] == 1

    # A later send skips all of them.
    later, _ = dispatch.create_send(make_issue(sent.issue.get_parent().specific, title="Later"))
    dispatch.prepare_send(later.pk)
    assert set(later.deliveries.values_list("email", flat=True)) == {"reader@example.org"}


def test_webhook_refuses_wrong_secret_and_bad_bodies_without_changing_anything(client, settings, sent):
    settings.NEWSLETTER_WEBHOOK_SECRET = "s3cret-webhook"
    assert post_events(client, "guess", {"email": "reader@example.org", "type": "bounce"}).status_code == 403
    bad = post_events(client, "s3cret-webhook", [{"email": "reader@example.org", "type": "bounce"}, {"type": "x"}])
    assert bad.status_code == 400 and "event 1" in bad.json()["details"][0]
    assert Subscriber.objects.get(email="reader@example.org").status == Subscriber.Status.SUBSCRIBED
    garbage = client.post(reverse("newsletter:bounce_webhook", args=["s3cret-webhook"]), data="{not json",
                          content_type="application/json")
    assert garbage.status_code == 400
    settings.NEWSLETTER_WEBHOOK_SECRET = ""
    assert post_events(client, "anything", {"email": "reader@example.org", "type": "bounce"}).status_code == 404
