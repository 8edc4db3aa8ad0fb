"""The whole loop (issue 21): a send to 1,000 readers, what comes back, and the next send.

The issue goes to 1,000 subscribers through a real SMTP server (aiosmtpd). Then, as receivers would: 30
addresses bounce hard (Postfix, Gmail, Microsoft 365, Exim and Yahoo formats), 20 bounce soft three times each
(mailbox full, over several days), 5 readers complain through feedback loops (Yahoo ARF, Microsoft JMRP) and 5
mail the List-Unsubscribe address. All of it lands in a real Dovecot mailbox, addressed to the return paths the
messages carried; the beat task reads it over IMAP. The statuses come out right, and the next send goes to
exactly the other 940.
"""

import re
import time

from django.utils import timezone

import pytest

from newsletter.models import ConsentRecord, Delivery, InboundEvent, Send, Subscriber
from newsletter.services import dispatch
from newsletter.tasks import read_bounce_mailbox, start_send
from tests.newsletter import bounce_messages as bm
from tests.newsletter.issue_factories import NewsletterIndexPageFactory, make_issue

pytestmark = pytest.mark.services

READERS = 1000
MAILTO = re.compile(r"<(mailto:[^>]+)>")
HARD_FORMATS = [bm.postfix_dsn, bm.gmail_dsn, bm.microsoft_ndr, bm.exim_bounce, bm.yahoo_bounce]


def address(n: int) -> str:
    return f"reader{n:04d}@example.net"


def send_issue(index, title):
    send, _ = dispatch.create_send(make_issue(index, title=title))
    start_send.delay(send.pk)
    send.refresh_from_db()
    assert send.status == Send.Status.DONE, send.paused_reason
    return send


def test_bounces_complaints_and_unsubscribes_come_back_and_the_next_send_skips_them(
        db, home, smtp, dovecot, settings, capsys):
    settings.NEWSLETTER_BOUNCE_ADDRESS = "bounces@mail.example.org"
    settings.NEWSLETTER_UNSUBSCRIBE_MAILTO = ""
    settings.NEWSLETTER_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.NEWSLETTER_BATCH_SIZE = 250
    settings.NEWSLETTER_SOFT_BOUNCE_LIMIT = 3
    settings.NEWSLETTER_SOFT_BOUNCE_DAYS = 30
    now = timezone.now()
    Subscriber.objects.bulk_create(
        Subscriber(email=address(n), status=Subscriber.Status.SUBSCRIBED, confirmed_at=now) for n in range(READERS))
    hard = [address(n) for n in range(0, 30)]
    soft = [address(n) for n in range(30, 50)]
    complain = [address(n) for n in range(50, 55)]
    leave = [address(n) for n in range(55, 60)]
    index = NewsletterIndexPageFactory(parent=home)

    started = time.monotonic()
    first = send_issue(index, "November")
    smtp.wait_for(READERS, timeout=60)
    send_seconds = time.monotonic() - started
    assert sorted(smtp.recipients) == [address(n) for n in range(READERS)]
    return_path = {recipient: sender for sender, recipient in smtp.senders}
    list_unsubscribe = {recipient: message["List-Unsubscribe"] for recipient, message in smtp.envelopes}
    assert len(set(return_path.values())) == READERS  # one return path per message

    # What the receivers send back, in the mailbox.
    mails = []
    for n, recipient in enumerate(hard):
        mails.append(HARD_FORMATS[n % len(HARD_FORMATS)](return_path[recipient], recipient))
    for day in range(2):  # two soft bounces each, on two days: not yet enough
        for recipient in soft:
            mails.append(bm.postfix_dsn(return_path[recipient], recipient, status="4.2.2",
                                        diagnostic=f"smtp; 452 4.2.2 Mailbox full (day {day + 1})"))
    for n, recipient in enumerate(complain):
        jmrp = n % 2 == 1
        mails.append(bm.arf_complaint(
            return_path[recipient], recipient, list_unsubscribe[recipient], to="fbl@mail.example.org",
            reporter="staff@hotmail.com" if jmrp else "Yahoo! Mail AntiSpam Feedback <feedback@arf.mail.yahoo.com>",
            user_agent="Microsoft JMRP" if jmrp else "Yahoo!-Mail-Feedback/2.0", with_mail_from=not jmrp))
    for recipient in leave:
        mailto = MAILTO.search(list_unsubscribe[recipient]).group(1).removeprefix("mailto:")
        mails.append(bm.mailto_unsubscribe(mailto, recipient))
    dovecot.deliver(*mails)

    started = time.monotonic()
    summary = read_bounce_mailbox.delay().get()
    read_seconds = time.monotonic() - started
    assert summary["read"] == 30 + 40 + 5 + 5
    assert (summary["hard_bounce"], summary["soft_bounce"], summary["complaint"], summary["unsubscribe"]) == (
        30, 40, 5, 5)
    assert summary.get("unreadable", 0) == 0
    assert not Subscriber.objects.filter(email__in=soft).exclude(status=Subscriber.Status.SUBSCRIBED).exists()

    # The third soft bounce of each, a week later.
    dovecot.deliver(*(bm.postfix_dsn(return_path[recipient], recipient, status="4.2.2",
                                     diagnostic="smtp; 452 4.2.2 Mailbox full (day 8)") for recipient in soft))
    second_run = read_bounce_mailbox.delay().get()
    assert second_run["read"] == 20 and second_run["soft_bounce"] == 20

    statuses = dict(Subscriber.objects.values_list("email", "status"))
    expected = dict.fromkeys(statuses, Subscriber.Status.SUBSCRIBED)
    expected.update(dict.fromkeys(hard + soft, Subscriber.Status.CLEANED))
    expected.update(dict.fromkeys(complain, Subscriber.Status.COMPLAINED))
    expected.update(dict.fromkeys(leave, Subscriber.Status.UNSUBSCRIBED))
    assert statuses == expected
    withdrawn = ConsentRecord.objects.filter(event=ConsentRecord.Event.WITHDRAWN)
    assert sorted(withdrawn.filter(form="mailto").values_list("subscriber__email", flat=True)) == leave
    assert withdrawn.filter(subscriber__email__in=complain).count() == 5
    assert Delivery.objects.filter(send=first, status=Delivery.Status.BOUNCED).count() == 50
    assert dovecot.folder("INBOX") == [] and len(dovecot.folder("Processed")) == 100
    assert dovecot.folder("Unreadable") == []
    assert InboundEvent.objects.count() == 100

    # Beat fires again: nothing more.
    assert read_bounce_mailbox.delay().get().get("read", 0) == 0

    # The next send skips exactly those 60.
    smtp.envelopes.clear()
    smtp.senders.clear()
    smtp.messages.clear()
    second = send_issue(index, "December")
    skipped = set(hard + soft + complain + leave)
    assert len(skipped) == 60
    assert set(second.deliveries.values_list("email", flat=True)) == {address(n) for n in range(READERS)} - skipped
    smtp.wait_for(READERS - 60, timeout=60)
    time.sleep(0.2)
    assert sorted(smtp.recipients) == sorted({address(n) for n in range(READERS)} - skipped)

    with capsys.disabled():
        print(f"\n[deliverability loop] sent {READERS} in {send_seconds:.1f} s; read 80 + 20 mailbox messages in "
              f"{read_seconds:.1f} s (first run); cleaned {len(hard)} hard + {len(soft)} soft, "
              f"{len(complain)} complained, {len(leave)} unsubscribed; next send {READERS - 60} recipients")
