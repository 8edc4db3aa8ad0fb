"""Return paths (VERP) and the one bounces service every channel reports to (issue 21, points 1 and 2).

A send through a real SMTP server (aiosmtpd): each message's envelope sender names its delivery, and the
List-Unsubscribe mailto address names its subscriber; the bounces service turns reports into statuses.
"""

import re
from datetime import timedelta

from django.utils import timezone

import pytest

from newsletter.models import ConsentRecord, Delivery, InboundEvent, Send, Subscriber
from newsletter.services import bounces, dispatch, headers, tokens
from newsletter.services.bounces import Kind, Report, Source
from newsletter.tasks import start_send
from tests.newsletter.factories import SubscriberFactory
from tests.newsletter.issue_factories import NewsletterIndexPageFactory, make_issue

MAILTO = re.compile(r"<mailto:([^?>]+)\?subject=([^>]+)>")


@pytest.fixture
def verp(settings):
    settings.NEWSLETTER_BOUNCE_ADDRESS = "bounces@mail.example.org"
    settings.NEWSLETTER_UNSUBSCRIBE_MAILTO = ""
    settings.NEWSLETTER_FROM_EMAIL = "Hotline News <news@example.org>"
    settings.NEWSLETTER_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


@pytest.fixture
def index(home):
    return NewsletterIndexPageFactory(parent=home)


def send_issue(index, title="Issue"):
    issue = make_issue(index, title=title)
    send, _ = dispatch.create_send(issue)
    start_send.delay(send.pk)
    send.refresh_from_db()
    assert send.status == Send.Status.DONE
    return send


def delivery_of(envelope_sender: str) -> Delivery:
    """What a bounce to this address maps back to: the token alone, no guessing."""
    local = envelope_sender.partition("@")[0]
    [(purpose, delivery_id, token)] = tokens.find_address_tokens(local.partition("+")[2])
    assert purpose == tokens.RETURN_PATH and tokens.check_address_token(token, purpose, delivery_id)
    return Delivery.objects.get(pk=delivery_id)


def test_each_message_has_its_own_return_path_and_mailto_naming_its_recipient(db, index, smtp, verp):
    for n in range(3):
        SubscriberFactory(email=f"reader{n}@example.org")
    send = send_issue(index)
    smtp.wait_for(3)
    assert len(smtp.senders) == 3
    seen = set()
    for envelope_sender, recipient in smtp.senders:
        assert re.fullmatch(r"bounces\+d[0-9a-z]+-[0-9a-f]{16}@mail\.example\.org", envelope_sender)
        assert len(envelope_sender.partition("@")[0]) <= 64  # RFC 5321's limit for a local part
        delivery = delivery_of(envelope_sender)
        assert delivery.send_id == send.pk and delivery.email == recipient
        seen.add(envelope_sender)
    assert len(seen) == 3
    for recipient, message in smtp.envelopes:
        assert message["From"] == "Hotline News <news@example.org>"  # readers still see the newsletter's sender
        address, subject = MAILTO.search(message["List-Unsubscribe"]).groups()
        local = address.partition("@")[0]
        assert address.endswith("@mail.example.org") and local.startswith("bounces+u")
        [(purpose, subscriber_id, token)] = tokens.find_address_tokens(local)
        assert purpose == tokens.MAILTO_UNSUBSCRIBE
        subscriber = Subscriber.objects.get(pk=subscriber_id)
        assert subscriber.email == recipient
        assert tokens.check_address_token(token, purpose, subscriber_id, subscriber.token_key)
        assert subject == f"unsubscribe%20{token}"


def test_without_a_bounce_address_the_sender_is_the_envelope_sender(db, index, smtp, settings):
    settings.NEWSLETTER_BOUNCE_ADDRESS = ""
    settings.NEWSLETTER_FROM_EMAIL = "news@example.org"
    settings.NEWSLETTER_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    SubscriberFactory(email="reader@example.org")
    send_issue(index)
    smtp.wait_for(1)
    assert smtp.senders == [("news@example.org", "reader@example.org")]


def test_address_tokens_refuse_tampering_other_purposes_and_rotated_keys(db):
    subscriber = SubscriberFactory()
    token = tokens.mailto_unsubscribe_token(subscriber)
    assert tokens.check_address_token(token.upper(), tokens.MAILTO_UNSUBSCRIBE, subscriber.pk,
                                      subscriber.token_key)  # servers that change letter case
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert not tokens.check_address_token(forged, tokens.MAILTO_UNSUBSCRIBE, subscriber.pk, subscriber.token_key)
    assert not tokens.check_address_token(token, tokens.MAILTO_UNSUBSCRIBE, subscriber.pk + 1, subscriber.token_key)
    # A return-path token for the same number is not a mailto token (each purpose has its own key).
    other = tokens.make_address_token(tokens.RETURN_PATH, subscriber.pk)
    assert not tokens.check_address_token(other, tokens.MAILTO_UNSUBSCRIBE, subscriber.pk, subscriber.token_key)
    assert not tokens.check_address_token(token, tokens.MAILTO_UNSUBSCRIBE, subscriber.pk, "rotated-key")
    assert tokens.find_address_tokens("nothing here, not even d12-abc") == []


# --- The service -------------------------------------------------------------------------------------------------


@pytest.fixture
def delivered(db, index, smtp, verp):
    for name in ["dead", "full", "angry", "leaving", "fine"]:
        SubscriberFactory(email=f"{name}@example.org")
    send = send_issue(index)
    return {d.email.split("@")[0]: d for d in send.deliveries.all()}


def status(name):
    return Subscriber.objects.get(email=f"{name}@example.org").status


def test_hard_bounce_cleans_and_marks_the_delivery_bounced(delivered):
    dead = delivered["dead"]
    outcome = bounces.record(Report(kind=Kind.HARD_BOUNCE, source=Source.MAILBOX, key="dsn-1", delivery_id=dead.pk,
                                    status_code="5.1.1", detail="550 5.1.1 <dead@example.org>: user unknown"))
    assert outcome == bounces.RECORDED
    assert status("dead") == Subscriber.Status.CLEANED
    dead.refresh_from_db()
    assert dead.status == Delivery.Status.BOUNCED
    event = InboundEvent.objects.get(key="dsn-1")
    assert "dead@example.org" not in event.detail and "<recipient>" in event.detail  # no address kept
    assert bounces.figures(dead.send)["hard_bounces"] == 1
    # The same report read again counts once.
    assert bounces.record(Report(kind=Kind.HARD_BOUNCE, source=Source.MAILBOX, key="dsn-1",
                                 delivery_id=dead.pk)) == bounces.DUPLICATE
    assert InboundEvent.objects.filter(kind=Kind.HARD_BOUNCE).count() == 1


def test_soft_bounces_clean_only_after_the_limit_within_the_window(delivered, settings):
    settings.NEWSLETTER_SOFT_BOUNCE_LIMIT = 3
    settings.NEWSLETTER_SOFT_BOUNCE_DAYS = 30
    full = delivered["full"]

    def soft(key):
        return bounces.record(Report(kind=Kind.SOFT_BOUNCE, source=Source.MAILBOX, key=key, delivery_id=full.pk,
                                     status_code="4.2.2", detail="452 4.2.2 mailbox full"))

    soft("s1")
    # An old soft bounce, outside the window, does not count towards the limit.
    InboundEvent.objects.filter(key="s1").update(created_at=timezone.now() - timedelta(days=31))
    soft("s2")
    soft("s2")  # the same report twice
    assert status("full") == Subscriber.Status.SUBSCRIBED
    soft("s3")
    assert status("full") == Subscriber.Status.SUBSCRIBED
    soft("s4")
    assert status("full") == Subscriber.Status.CLEANED


def test_complaint_is_final_and_withdraws_consent(delivered):
    angry = delivered["angry"]
    bounces.record(Report(kind=Kind.COMPLAINT, source=Source.MAILBOX, key="arf-1", delivery_id=angry.pk))
    assert status("angry") == Subscriber.Status.COMPLAINED
    subscriber = Subscriber.objects.get(email="angry@example.org")
    assert subscriber.consents.filter(event=ConsentRecord.Event.WITHDRAWN).count() == 1
    # A later bounce or unsubscribe does not soften a complaint.
    bounces.record(Report(kind=Kind.HARD_BOUNCE, source=Source.WEBHOOK, key="b", subscriber_id=subscriber.pk))
    bounces.record(Report(kind=Kind.UNSUBSCRIBE, source=Source.MAILBOX, key="u", subscriber_id=subscriber.pk))
    assert status("angry") == Subscriber.Status.COMPLAINED
    angry.refresh_from_db()
    assert angry.status == Delivery.Status.SENT  # it arrived: the complaint is counted, not a bounce


def test_mailed_unsubscribe_records_the_withdrawal(delivered):
    subscriber = Subscriber.objects.get(email="leaving@example.org")
    assert bounces.record(Report(kind=Kind.UNSUBSCRIBE, source=Source.MAILBOX, key="m1",
                                 subscriber_id=subscriber.pk)) == bounces.RECORDED
    assert status("leaving") == Subscriber.Status.UNSUBSCRIBED
    consent = subscriber.consents.get(event=ConsentRecord.Event.WITHDRAWN)
    assert consent.form == "mailto"


def test_unknown_addresses_change_nothing(delivered):
    assert bounces.record(Report(kind=Kind.HARD_BOUNCE, source=Source.WEBHOOK, email="stranger@example.org")) == (
        bounces.UNKNOWN)
    assert not InboundEvent.objects.exists()


def test_refusals_while_sending_go_through_the_same_rules(db, index, smtp, verp, settings):
    settings.NEWSLETTER_SOFT_BOUNCE_LIMIT = 2
    SubscriberFactory(email="gone@example.org")
    SubscriberFactory(email="policy@example.org")
    smtp.refuse["gone@example.org"] = (550, "5.1.1 <gone@example.org>: Recipient address rejected")
    smtp.refuse["policy@example.org"] = (550, "5.7.1 Message refused by policy")
    send_issue(index, "One")
    assert status("gone") == Subscriber.Status.CLEANED
    # A policy refusal says nothing about the address: one is a soft bounce, the limit cleans.
    assert status("policy") == Subscriber.Status.SUBSCRIBED
    send_issue(index, "Two")
    assert status("policy") == Subscriber.Status.CLEANED
    assert InboundEvent.objects.filter(source=Source.SMTP, kind=Kind.SOFT_BOUNCE).count() == 2


@pytest.mark.parametrize(("code", "kind"), [
    ("5.1.1", Kind.HARD_BOUNCE), ("5.1.10", Kind.HARD_BOUNCE), ("5.4.4", Kind.HARD_BOUNCE),
    ("5.2.2", Kind.SOFT_BOUNCE), ("5.7.1", Kind.SOFT_BOUNCE), ("4.2.2", Kind.SOFT_BOUNCE),
    ("4.4.7", Kind.SOFT_BOUNCE),
])
def test_status_codes_are_classified(code, kind):
    assert bounces.classify(code) == kind


def test_return_path_needs_a_delivery(settings):
    settings.NEWSLETTER_BOUNCE_ADDRESS = "Bounces <bounces@mail.example.org>"
    assert headers.return_path(0) == ""
    assert headers.return_path(35).startswith("bounces+dz-")


def test_what_came_back_is_in_the_subscribers_data_export(delivered):
    from newsletter.services import privacy

    full = delivered["full"]
    bounces.record(Report(kind=Kind.SOFT_BOUNCE, source=Source.MAILBOX, key="x1", delivery_id=full.pk,
                          status_code="4.2.2", detail="452 4.2.2 <full@example.org> mailbox full"))
    exported = privacy.export_subscriber_data(Subscriber.objects.get(email="full@example.org"))
    assert [(r["kind"], r["channel"], r["status_code"]) for r in exported["delivery_reports"]] == [
        ("soft_bounce", "mailbox", "4.2.2")]
    other = privacy.export_subscriber_data(Subscriber.objects.get(email="fine@example.org"))
    assert other["delivery_reports"] == []
