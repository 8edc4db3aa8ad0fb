"""The bounce and unsubscribe mailbox, on a real Dovecot IMAP server (issue 21, point 2).

A newsletter goes out through a real SMTP server (aiosmtpd); the bounces, complaints and unsubscribe mails that
receivers would send back, in their real-world shapes, are delivered to a throwaway Dovecot; the beat task reads
them over IMAP and the subscribers' statuses change. Skipped without Dovecot unless REQUIRE_SERVICES=1.
"""

import io
import json
import re

from django.core.management import CommandError, call_command

import pytest

from newsletter.models import ConsentRecord, Delivery, InboundEvent, Send, Subscriber
from newsletter.services import dispatch, mailbox
from newsletter.tasks import read_bounce_mailbox, start_send
from tests.newsletter import bounce_messages as bm
from tests.newsletter.factories import SubscriberFactory
from tests.newsletter.issue_factories import NewsletterIndexPageFactory, make_issue

pytestmark = pytest.mark.services

MAILTO = re.compile(r"<(mailto:[^>]+)>")
NAMES = ["postfix", "gmail", "microsoft", "exim", "yahoo", "complains", "jmrp", "leaves", "full", "delayed",
         "away", "reader"]


@pytest.fixture
def sent(db, home, smtp, settings):
    """One issue sent to a dozen readers; for each, the return path and List-Unsubscribe their copy carried."""
    settings.NEWSLETTER_BOUNCE_ADDRESS = "bounces@mail.example.org"
    settings.NEWSLETTER_UNSUBSCRIBE_MAILTO = ""
    settings.NEWSLETTER_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    for name in NAMES:
        SubscriberFactory(email=f"{name}@example.net")
    issue = make_issue(NewsletterIndexPageFactory(parent=home))
    send, _ = dispatch.create_send(issue)
    start_send.delay(send.pk)
    send.refresh_from_db()
    assert send.status == Send.Status.DONE
    smtp.wait_for(len(NAMES))
    copies = {}
    return_paths = {recipient: sender for sender, recipient in smtp.senders}
    for recipient, message in smtp.envelopes:
        copies[recipient.split("@")[0]] = (return_paths[recipient], recipient, message["List-Unsubscribe"])
    return copies


def status(name):
    return Subscriber.objects.get(email=f"{name}@example.net").status


def test_bounces_complaints_and_unsubscribes_from_real_world_formats(dovecot, sent, settings):
    settings.NEWSLETTER_SOFT_BOUNCE_LIMIT = 3

    def rp(name):
        return sent[name][0]

    def to(name):
        return sent[name][1]

    mailto = MAILTO.search(sent["leaves"][2]).group(1).removeprefix("mailto:")
    forged = re.sub(r"u([0-9a-z]+)-[0-9a-f]{16}", r"u\1-0000000000000000", mailto)
    dovecot.deliver(
        bm.postfix_dsn(rp("postfix"), to("postfix")),
        bm.gmail_dsn(rp("gmail"), to("gmail")),
        bm.microsoft_ndr(rp("microsoft"), to("microsoft")),
        bm.exim_bounce(rp("exim"), to("exim")),
        bm.yahoo_bounce(rp("yahoo"), to("yahoo")),
        bm.arf_complaint(rp("complains"), to("complains"), sent["complains"][2], to="fbl@mail.example.org"),
        # Microsoft's JMRP leaves out Original-Mail-From: the enclosed message's headers name the delivery.
        bm.arf_complaint(rp("jmrp"), to("jmrp"), sent["jmrp"][2], to="fbl@mail.example.org",
                         reporter="staff@hotmail.com", user_agent="Microsoft JMRP", with_mail_from=False),
        bm.mailto_unsubscribe(mailto, "Leaves <leaves@example.net>"),
        bm.postfix_dsn(rp("full"), to("full"), status="4.2.2", diagnostic="smtp; 452 4.2.2 Mailbox full"),
        bm.postfix_dsn(rp("delayed"), to("delayed"), status="4.4.1", action="delayed",
                       diagnostic="smtp; 421 4.4.1 Connection timed out"),
        bm.auto_reply(rp("away")),
        bm.mailto_unsubscribe(forged, "Attacker <mallory@example.com>"),
        b"\x00\xff not an email at all",
    )
    summary = read_bounce_mailbox.delay().get()

    assert summary["read"] == 13
    assert {name: status(name) for name in NAMES} == {
        "postfix": "cleaned", "gmail": "cleaned", "microsoft": "cleaned", "exim": "cleaned", "yahoo": "cleaned",
        "complains": "complained", "jmrp": "complained", "leaves": "unsubscribed",
        "full": "subscribed",  # one soft bounce of three
        "delayed": "subscribed", "away": "subscribed", "reader": "subscribed",
    }
    assert summary["hard_bounce"] == 5 and summary["soft_bounce"] == 1
    assert summary["complaint"] == 2 and summary["unsubscribe"] == 1
    assert summary["ignored"] == 2  # the delay warning and the out-of-office reply
    assert summary["unreadable"] == 2 and summary["kept_aside_total"] == 2  # the forged request and the garbage
    leaver = Subscriber.objects.get(email="leaves@example.net")
    assert leaver.consents.get(event=ConsentRecord.Event.WITHDRAWN).form == "mailto"
    bounced = Delivery.objects.filter(status=Delivery.Status.BOUNCED).values_list("email", flat=True)
    assert sorted(bounced) == sorted(f"{n}@example.net" for n in ["postfix", "gmail", "microsoft", "exim", "yahoo",
                                                                  "full"])

    # Nothing is lost: every message is in one of the two folders, none left in the inbox.
    assert dovecot.folder("INBOX") == []
    assert len(dovecot.folder("Processed")) == 11
    aside = dovecot.folder("Unreadable")
    assert len(aside) == 2 and any(b"mallory@example.com" in raw for raw in aside)

    # A second run (beat fires again) reads nothing and changes nothing.
    again = mailbox.process_mailbox()
    assert again.get("read", 0) == 0 and again["kept_aside_total"] == 2
    assert InboundEvent.objects.count() == 13


def test_a_message_read_again_after_a_crash_counts_once(dovecot, sent, settings):
    settings.NEWSLETTER_SOFT_BOUNCE_LIMIT = 2
    rp, to, _ = sent["full"]
    first = bm.postfix_dsn(rp, to, status="4.2.2", diagnostic="smtp; 452 4.2.2 Mailbox full")
    # The previous run recorded this bounce and died before moving it out of the inbox.
    assert mailbox.record_message(first)[0] == "done"
    dovecot.deliver(first)
    summary = mailbox.process_mailbox()
    assert summary["read"] == 1 and summary["duplicate"] == 1
    assert status("full") == Subscriber.Status.SUBSCRIBED  # still one soft bounce, not two
    assert dovecot.folder("INBOX") == [] and len(dovecot.folder("Processed")) == 1
    # A second, different soft bounce reaches the limit of two.
    dovecot.deliver(bm.postfix_dsn(rp, to, status="4.2.2", diagnostic="smtp; 452 4.2.2 Mailbox full"))
    mailbox.process_mailbox()
    assert status("full") == Subscriber.Status.CLEANED


def test_made_up_bounces_and_complaints_without_a_valid_token_change_nothing(dovecot, sent):
    # Anyone can mail the bounce mailbox. A bounce or complaint that names a subscriber's address but carries
    # no valid return-path token (forged, or the token tampered with) is kept aside for a person, not obeyed.
    tampered = re.sub(r"-[0-9a-f]{16}@", "-0123456789abcdef@", sent["reader"][0])
    dovecot.deliver(
        bm.postfix_dsn("bounces@mail.example.org", sent["postfix"][1]),
        bm.exim_bounce(tampered, sent["reader"][1]),
        bm.arf_complaint("bounces@mail.example.org", sent["complains"][1], "<https://x/>", to="fbl@example.org"),
    )
    summary = mailbox.process_mailbox()
    assert summary["read"] == 3 and summary["unreadable"] == 3
    assert {status(name) for name in ("postfix", "reader", "complains")} == {Subscriber.Status.SUBSCRIBED}
    assert len(dovecot.folder("Unreadable")) == 3


def test_without_return_paths_a_bounce_names_its_recipient_by_address(dovecot, sent, settings):
    # No bounce address configured: bounces come back to the sender's mailbox and name the address only.
    settings.NEWSLETTER_BOUNCE_ADDRESS = ""
    dovecot.deliver(bm.postfix_dsn("newsletter@example.org", sent["postfix"][1]))
    mailbox.process_mailbox()
    assert status("postfix") == Subscriber.Status.CLEANED


def test_unconfigured_mailbox_does_nothing(db, settings):
    settings.NEWSLETTER_BOUNCE_IMAP_HOST = ""
    assert read_bounce_mailbox.delay().get() == {"configured": False}


def test_a_run_while_another_reads_the_mailbox_leaves_it_alone(dovecot, sent):
    from django.core.cache import cache

    dovecot.deliver(bm.postfix_dsn(sent["postfix"][0], sent["postfix"][1]))
    cache.add(mailbox.LOCK_KEY, "1", timeout=60)  # another worker's run holds the mailbox
    try:
        assert mailbox.process_mailbox()["skipped"]
        assert len(dovecot.folder("INBOX")) == 1 and status("postfix") == Subscriber.Status.SUBSCRIBED
    finally:
        cache.delete(mailbox.LOCK_KEY)
    out = io.StringIO()
    call_command("read_bounce_mailbox", stdout=out)
    assert json.loads(out.getvalue())["hard_bounce"] == 1
    assert status("postfix") == Subscriber.Status.CLEANED


def test_the_command_says_when_no_mailbox_is_configured(db, settings):
    settings.NEWSLETTER_BOUNCE_IMAP_HOST = ""
    with pytest.raises(CommandError, match="NEWSLETTER_BOUNCE_IMAP_HOST"):
        call_command("read_bounce_mailbox")
