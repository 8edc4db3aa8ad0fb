"""Send reports: bounces and complaints suppress the address; unsubscribes after an issue are counted."""

import base64
import json

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


def post_events(client, events):
    """Postmark's tracking webhook (through django-anymail), with its basic auth."""
    auth = "Basic " + base64.b64encode(b"user:s3cret-webhook").decode()
    return [client.post("/newsletter/webhooks/postmark/tracking/", data=json.dumps(event),
                        content_type="application/json", HTTP_AUTHORIZATION=auth) for event in events]


def postmark(record_type, email, number, details=""):
    return {"RecordType": record_type, "Type": "HardBounce" if record_type == "Bounce" else record_type,
            "ID": number, "MessageID": f"message-{number}", "Email": email, "Details": details,
            "BouncedAt": "2026-12-01T10:00:00Z", "Metadata": {}}


def test_hard_bounce_during_delivery_cleans_the_address(sent):
    failed = Delivery.objects.get(send=sent, email="nobody@example.org")
    assert failed.status == Delivery.Status.FAILED and "Recipient address rejected" in failed.error
    assert Subscriber.objects.get(email="nobody@example.org").status == Subscriber.Status.CLEANED


def test_webhook_reports_suppress_and_show_in_the_report(client, settings, sent):
    settings.ANYMAIL = {"WEBHOOK_SECRET": "user:s3cret-webhook"}
    responses = post_events(client, [
        postmark("Bounce", "Bouncer@Example.org", 1, "smtp;550 5.1.1 mailbox gone for good"),
        postmark("SpamComplaint", "complainer@example.org", 2),
    ])
    assert [response.status_code for response in responses] == [200, 200]
    assert Subscriber.objects.get(email="bouncer@example.org").status == Subscriber.Status.CLEANED
    assert Subscriber.objects.get(email="complainer@example.org").status == Subscriber.Status.COMPLAINED
    subscriptions.unsubscribe(Subscriber.objects.get(email="leaver@example.org"))

    report = dispatch.progress(sent)
    # The complaint was delivered (and complained about): only the bounce is counted as bounced.
    assert report["sent"] == 3 and report["bounced"] == 1 and report["failed"] == 1
    assert report["unsubscribed_after"] == 2  # the leaver and the complainer

    # Replaying the same events changes nothing more.
    post_events(client, [postmark("Bounce", "bouncer@example.org", 1, "smtp;550 5.1.1 gone")])
    assert dispatch.progress(sent)["bounced"] == 1

    # A later send skips all of them.
    later, _ = dispatch.create_send(make_issue(sent.issue.get_parent().specific, title="Later"))
    dispatch.prepare_send(later.pk)
    assert set(later.deliveries.values_list("email", flat=True)) == {"reader@example.org"}
