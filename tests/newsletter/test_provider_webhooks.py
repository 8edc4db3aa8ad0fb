"""Sending through an email service provider and hearing back from it, through django-anymail (issue 21, point 3).

The issue goes out through anymail's test backend (what an ESP backend is handed: the return-path token as
metadata); the providers' tracking webhooks then post events in their documented formats, with their real
signature or basic-auth checks, to /newsletter/webhooks/<provider>/tracking/.
"""

import base64
import hashlib
import hmac
import json
import time
import uuid

from django.core import mail
from django.test import Client

import pytest

from newsletter.models import ConsentRecord, Delivery, InboundEvent, Send, Subscriber
from newsletter.services import dispatch
from newsletter.tasks import start_send
from tests.newsletter.factories import SubscriberFactory
from tests.newsletter.issue_factories import NewsletterIndexPageFactory, make_issue

pytestmark = pytest.mark.django_db

BASIC = "anymail-user:webhook-s3cret-password"
MAILGUN_KEY = "key-mailgun-signing-0123456789abcdef"
NAMES = ["mg-hard", "mg-soft", "mg-complaint", "pm-hard", "pm-complaint", "pm-unsubscribe", "ses-hard",
         "ses-transient", "ses-complaint", "sp-hard", "reader"]


@pytest.fixture
def anymail_sent(home, settings):
    """An issue sent through anymail's test backend; for each reader, the metadata their message carried."""
    settings.NEWSLETTER_BOUNCE_ADDRESS = "bounces@mail.example.org"
    settings.NEWSLETTER_EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.ANYMAIL = {"WEBHOOK_SECRET": BASIC, "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}
    for name in NAMES:
        SubscriberFactory(email=f"{name}@example.net")
    mail.outbox = []
    send, _ = dispatch.create_send(make_issue(NewsletterIndexPageFactory(parent=home)))
    start_send.delay(send.pk)
    send.refresh_from_db()
    assert send.status == Send.Status.DONE
    sent = {}
    for message in mail.outbox:
        params = message.anymail_test_params
        [recipient] = [address.addr_spec for address in params["to"]]
        sent[recipient.split("@")[0]] = params["metadata"]["return_path"]
    assert len(sent) == len(NAMES)
    return sent


def status(name):
    return Subscriber.objects.get(email=f"{name}@example.net").status


def basic_auth(credentials=BASIC):
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()}


def mailgun_event(event, recipient, return_path, *, severity=None, code=550, message="", key=MAILGUN_KEY):
    """Mailgun's JSON webhook: the event data and a signature block (HMAC-SHA256 of timestamp + token)."""
    timestamp, token = str(int(time.time())), uuid.uuid4().hex * 2
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    data = {"event": event, "id": uuid.uuid4().hex[:22], "timestamp": time.time(), "recipient": recipient,
            "message": {"headers": {"to": recipient, "message-id": f"{uuid.uuid4().hex}@mail.example.org",
                                    "from": "news@example.org", "subject": "Hotline network news"}},
            "user-variables": {"return_path": return_path}, "tags": [], "flags": {"is-test-mode": False}}
    if severity:
        data["severity"] = severity
        data["reason"] = "bounce" if severity == "permanent" else "generic"
        data["delivery-status"] = {"code": code, "message": message, "description": "", "attempt-no": 1,
                                   "mx-host": "mx.example.net"}
    return {"signature": {"timestamp": timestamp, "token": token, "signature": signature}, "event-data": data}


def post_json(path, payload, **headers):
    return Client().post(path, data=json.dumps(payload), content_type="application/json", **headers)


def test_the_message_handed_to_the_provider_carries_its_return_path_token(anymail_sent):
    message = mail.outbox[0]
    params = message.anymail_test_params
    assert params["from"].addr_spec == "newsletter@example.org"  # readers see the newsletter's sender
    assert "envelope_sender" not in params  # a provider sets its own return path; the token goes as metadata
    assert params["metadata"]["return_path"].startswith("d")
    assert "List-Unsubscribe" in message.extra_headers and "mailto:bounces+u" in message.extra_headers[
        "List-Unsubscribe"]
    assert Delivery.objects.filter(status=Delivery.Status.SENT).count() == len(NAMES)


def test_mailgun_signed_events(anymail_sent):
    url = "/newsletter/webhooks/mailgun/tracking/"
    auth = basic_auth()  # anymail checks the shared basic auth first when it is set, then Mailgun's signature
    hard = mailgun_event("failed", "mg-hard@example.net", anymail_sent["mg-hard"], severity="permanent",
                         message="5.1.1 The email account that you tried to reach does not exist.")
    assert post_json(url, hard, **auth).status_code == 200
    assert status("mg-hard") == Subscriber.Status.CLEANED
    # Mailgun retries a webhook it thinks failed: the same event again changes nothing more.
    assert post_json(url, hard, **auth).status_code == 200
    assert InboundEvent.objects.filter(kind="hard_bounce").count() == 1

    # A temporary failure is a deferral (Mailgun keeps trying): nothing recorded.
    soft = mailgun_event("failed", "mg-soft@example.net", anymail_sent["mg-soft"], severity="temporary", code=452,
                         message="4.2.2 Mailbox full")
    assert post_json(url, soft, **auth).status_code == 200
    assert status("mg-soft") == Subscriber.Status.SUBSCRIBED

    complaint = mailgun_event("complained", "mg-complaint@example.net", anymail_sent["mg-complaint"])
    assert post_json(url, complaint, **auth).status_code == 200
    assert status("mg-complaint") == Subscriber.Status.COMPLAINED

    # A forged event (wrong signing key) is refused and changes nothing.
    forged = mailgun_event("failed", "reader@example.net", anymail_sent["reader"], severity="permanent",
                           message="5.1.1 no such user", key="not-the-key")
    assert post_json(url, forged, **auth).status_code == 400
    assert status("reader") == Subscriber.Status.SUBSCRIBED


def test_postmark_events_with_basic_auth(anymail_sent):
    url = "/newsletter/webhooks/postmark/tracking/"
    bounce = {
        "RecordType": "Bounce", "MessageStream": "outbound", "ID": 4323372036854775807, "Type": "HardBounce",
        "TypeCode": 1, "Name": "Hard bounce", "Tag": "", "MessageID": str(uuid.uuid4()), "ServerID": 23,
        "Metadata": {"return_path": anymail_sent["pm-hard"]},
        "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": "pm-hard@example.net", "From": "newsletter@localhost", "BouncedAt": "2026-12-07T16:33:54.907Z",
        "DumpAvailable": True, "Inactive": True, "CanActivate": True, "Subject": "Hotline network news",
    }
    assert post_json(url, bounce).status_code == 400  # no credentials
    assert post_json(url, bounce, **basic_auth("anymail-user:wrong")).status_code == 400
    assert status("pm-hard") == Subscriber.Status.SUBSCRIBED
    assert post_json(url, bounce, **basic_auth()).status_code == 200
    assert status("pm-hard") == Subscriber.Status.CLEANED

    complaint = {**bounce, "RecordType": "SpamComplaint", "Type": "SpamComplaint", "TypeCode": 512,
                 "ID": 4323372036854775808, "Email": "pm-complaint@example.net",
                 "Metadata": {"return_path": anymail_sent["pm-complaint"]}, "Details": "Test spam complaint"}
    assert post_json(url, complaint, **basic_auth()).status_code == 200
    assert status("pm-complaint") == Subscriber.Status.COMPLAINED

    unsubscribe = {"RecordType": "SubscriptionChange", "MessageID": str(uuid.uuid4()), "ServerID": 23,
                   "MessageStream": "outbound", "ChangedAt": "2026-12-07T16:40:00Z",
                   "Recipient": "pm-unsubscribe@example.net", "Origin": "Recipient", "SuppressSending": True,
                   "SuppressionReason": "ManualSuppression", "Tag": "",
                   "Metadata": {"return_path": anymail_sent["pm-unsubscribe"]}}
    assert post_json(url, unsubscribe, **basic_auth()).status_code == 200
    assert status("pm-unsubscribe") == Subscriber.Status.UNSUBSCRIBED
    leaver = Subscriber.objects.get(email="pm-unsubscribe@example.net")
    assert leaver.consents.get(event=ConsentRecord.Event.WITHDRAWN).form == "unsubscribe (webhook)"


def sns(message: dict) -> tuple[dict, dict]:
    """An Amazon SNS notification carrying an SES event, with the headers SNS sends."""
    message_id = str(uuid.uuid4())
    body = {"Type": "Notification", "MessageId": message_id,
            "TopicArn": "arn:aws:sns:eu-west-1:123456789012:ses-events",
            "Subject": "Amazon SES Email Event Notification", "Message": json.dumps(message),
            "Timestamp": "2026-12-07T16:33:54.907Z", "SignatureVersion": "1", "Signature": "EXAMPLE==",
            "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000.pem",
            "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe"}
    return body, {"HTTP_X_AMZ_SNS_MESSAGE_TYPE": "Notification", "HTTP_X_AMZ_SNS_MESSAGE_ID": message_id}


def ses_mail(recipients, metadata=None):
    headers = [{"name": "From", "value": "newsletter@localhost"}]
    if metadata:
        headers.append({"name": "X-Metadata", "value": json.dumps(metadata)})
    return {"timestamp": "2026-12-07T16:33:50.000Z", "source": "newsletter@localhost",
            "messageId": "0102018c" + uuid.uuid4().hex, "destination": recipients, "headersTruncated": False,
            "headers": headers}


def test_amazon_ses_events_through_sns(anymail_sent):
    url = "/newsletter/webhooks/amazon_ses/tracking/"
    bounce, headers = sns({"eventType": "Bounce", "mail": ses_mail(["ses-hard@example.net",
                                                                    "ses-transient@example.net"]),
                           "bounce": {"bounceType": "Permanent", "bounceSubType": "General",
                                      "feedbackId": "0102018c-feedback", "timestamp": "2026-12-07T16:33:54.000Z",
                                      "reportingMTA": "dsn; a1-2.smtp-out.eu-west-1.amazonses.com",
                                      "bouncedRecipients": [{"emailAddress": "ses-hard@example.net",
                                                             "action": "failed", "status": "5.1.1",
                                                             "diagnosticCode": "smtp; 550 5.1.1 user unknown"}]}})
    # SNS first posts without credentials and sends them once challenged (401), as the basic auth in its URL says.
    assert post_json(url, bounce, **headers).status_code == 401
    assert status("ses-hard") == Subscriber.Status.SUBSCRIBED
    assert post_json(url, bounce, **headers, **basic_auth()).status_code == 200
    assert status("ses-hard") == Subscriber.Status.CLEANED
    assert status("ses-transient") == Subscriber.Status.SUBSCRIBED  # only the bounced recipient

    transient, headers = sns({"eventType": "Bounce", "mail": ses_mail(["ses-transient@example.net"]),
                              "bounce": {"bounceType": "Transient", "bounceSubType": "MailboxFull",
                                         "bouncedRecipients": [{"emailAddress": "ses-transient@example.net"}]}})
    assert post_json(url, transient, **headers, **basic_auth()).status_code == 200
    assert InboundEvent.objects.get(kind="soft_bounce").subscriber.email == "ses-transient@example.net"
    assert status("ses-transient") == Subscriber.Status.SUBSCRIBED

    complaint, headers = sns({"eventType": "Complaint",
                              "mail": ses_mail(["ses-complaint@example.net"],
                                               {"return_path": anymail_sent["ses-complaint"]}),
                              "complaint": {"complainedRecipients": [{"emailAddress": "ses-complaint@example.net"}],
                                            "complaintFeedbackType": "abuse", "userAgent": "Yahoo!-Mail-Feedback/2.0",
                                            "feedbackId": "0102018c-complaint",
                                            "timestamp": "2026-12-07T16:40:00.000Z"}})
    assert post_json(url, complaint, **headers, **basic_auth()).status_code == 200
    assert status("ses-complaint") == Subscriber.Status.COMPLAINED
    assert InboundEvent.objects.get(kind="complaint").delivery.email == "ses-complaint@example.net"


def test_sparkpost_batch_of_events(anymail_sent):
    url = "/newsletter/webhooks/sparkpost/tracking/"
    events = [
        {"msys": {"message_event": {
            "type": "bounce", "bounce_class": "10", "event_id": "92356927693813856",
            "raw_rcpt_to": "sp-hard@example.net", "rcpt_to": "sp-hard@example.net",
            "raw_reason": "550 5.1.1 <sp-hard@example.net>: Recipient address rejected",
            "reason": "550 5.1.1 ...@... Recipient address rejected", "error_code": "550",
            "rcpt_meta": {"return_path": anymail_sent["sp-hard"]}, "timestamp": str(int(time.time())),
            "transmission_id": "65832150921904138"}}},
        {"msys": {"message_event": {"type": "delivery", "event_id": "92356927693813857",
                                    "raw_rcpt_to": "reader@example.net", "timestamp": str(int(time.time()))}}},
    ]
    assert post_json(url, events, **basic_auth()).status_code == 200
    assert status("sp-hard") == Subscriber.Status.CLEANED
    assert status("reader") == Subscriber.Status.SUBSCRIBED
    event = InboundEvent.objects.get(kind="hard_bounce")
    assert "sp-hard@example.net" not in event.detail  # the address is not kept in the report's text


def test_a_webhook_stays_off_until_it_is_secured(anymail_sent, settings):
    settings.ANYMAIL = {}
    bounce = mailgun_event("failed", "reader@example.net", anymail_sent["reader"], severity="permanent",
                           message="5.1.1 no such user")
    # Mailgun without its signing key, Postmark without a basic-auth secret: not found, never a 500.
    assert post_json("/newsletter/webhooks/mailgun/tracking/", bounce).status_code == 404
    assert post_json("/newsletter/webhooks/postmark/tracking/", {"RecordType": "Bounce"}).status_code == 404
    assert status("reader") == Subscriber.Status.SUBSCRIBED
    # The old home-made JSON webhook is gone.
    assert Client().post("/newsletter/webhooks/bounces/anything/", data="{}",
                         content_type="application/json").status_code == 404


def test_bad_bodies_are_refused_without_a_server_error(anymail_sent):
    assert post_json("/newsletter/webhooks/mailgun/tracking/", {"no": "signature"}, **basic_auth()).status_code == 400
    response = Client().post("/newsletter/webhooks/postmark/tracking/", data="{not json",
                             content_type="application/json", **basic_auth())
    assert response.status_code == 400
