"""The SMTP backend delivers over one connection and reports each message's fate, against a real server."""

import pytest

from newsletter.backends import BatchInterrupted, Outcome, OutgoingMessage, get_backend
from newsletter.backends.smtp import SMTPBackend
from tests.smtp_sink import SMTPSink, free_port

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def message(n: int, to: str | None = None) -> OutgoingMessage:
    return OutgoingMessage(
        delivery_id=n,
        to=to or f"reader{n}@example.org",
        subject=f"Network update {n}",
        text=f"Plain text {n}",
        html=f"<p>HTML {n}</p>",
        from_email="Hotline Network <news@example.org>",
        headers={
            "List-Id": "Hotline Network <news.example.org>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        reply_to=("editors@example.org",),
    )


@pytest.fixture
def sink():
    with SMTPSink() as running:
        yield running


def deliver(backend, messages):
    results = []
    backend.deliver_batch(messages, results.append)
    return results


def test_batch_is_delivered_with_headers_and_both_parts(settings, sink):
    settings.EMAIL_HOST, settings.EMAIL_PORT = sink.host, sink.port
    results = deliver(SMTPBackend(SMTP_BACKEND), [message(1), message(2), message(3)])

    assert [(r.delivery_id, r.outcome) for r in results] == [(1, Outcome.SENT), (2, Outcome.SENT), (3, Outcome.SENT)]
    received = sink.wait_for(3)
    assert sink.recipients == ["reader1@example.org", "reader2@example.org", "reader3@example.org"]
    first = received[0]
    assert first["Subject"] == "Network update 1"
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert first["Reply-To"] == "editors@example.org"
    assert first.get_body(("plain",)).get_content().strip() == "Plain text 1"
    assert "<p>HTML 1</p>" in first.get_body(("html",)).get_content()


def test_refused_recipients_are_classified_and_the_rest_still_go(settings, sink):
    settings.EMAIL_HOST, settings.EMAIL_PORT = sink.host, sink.port
    sink.refuse["gone@example.org"] = (550, "5.1.1 No such mailbox")
    sink.refuse["full@example.org"] = (452, "4.2.2 Mailbox full")
    batch = [message(1), message(2, "gone@example.org"), message(3, "full@example.org"), message(4)]

    results = {r.delivery_id: r for r in deliver(SMTPBackend(SMTP_BACKEND), batch)}

    assert results[1].outcome == results[4].outcome == Outcome.SENT
    assert results[2].outcome == Outcome.PERMANENT and "No such mailbox" in results[2].detail
    assert results[3].outcome == Outcome.TEMPORARY and results[3].detail.startswith("452")
    assert sink.recipients == ["reader1@example.org", "reader4@example.org"]


def test_unreachable_server_interrupts_the_batch_before_anything_is_reported(settings):
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    results = []
    with pytest.raises(BatchInterrupted, match="cannot connect"):
        SMTPBackend(SMTP_BACKEND).deliver_batch([message(1)], results.append)
    assert results == []


def test_backend_is_selected_by_setting(settings):
    settings.NEWSLETTER_BACKEND = "smtp"
    assert isinstance(get_backend(), SMTPBackend)


def test_non_ascii_subject_and_sender_are_encoded(settings, sink):
    settings.EMAIL_HOST, settings.EMAIL_PORT = sink.host, sink.port
    special = OutgoingMessage(
        delivery_id=9, to="lecteur@example.org", subject="Réseau : 91 % retiré en trois jours",
        text="Résumé — ça marche.\n" + "x" * 2000, html="<p>Résumé — ça marche.</p>",
        from_email="Réseau des hotlines <news@example.org>",
    )
    [result] = deliver(SMTPBackend(SMTP_BACKEND), [special])
    assert result.outcome == Outcome.SENT
    received = sink.wait_for(1)[0]
    assert received["Subject"] == "Réseau : 91 % retiré en trois jours"
    assert received["From"].addresses[0].display_name == "Réseau des hotlines"
    text = received.get_body(("plain",)).get_content()
    assert text.startswith("Résumé — ça marche.") and "x" * 2000 in text  # long lines survive intact
    assert received.get_body(("html",)).get_content().strip() == "<p>Résumé — ça marche.</p>"


def test_other_email_backends_get_django_email_objects(settings, mailoutbox):
    results = deliver(SMTPBackend("django.core.mail.backends.locmem.EmailBackend"), [message(1), message(2)])
    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.SENT]
    assert [m.to for m in mailoutbox] == [["reader1@example.org"], ["reader2@example.org"]]
    assert mailoutbox[0].extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
