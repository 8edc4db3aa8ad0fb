"""A translated issue: each subscriber receives it in their language when a translation is published, otherwise
the original; the access gate applies to every translation; a send always belongs to the original."""

import json

from wagtail.models import PageViewRestriction

import pytest

from newsletter.models import Audience, Delivery, Send, Subscriber
from newsletter.services import dispatch
from newsletter.tasks import start_send
from tests.factories import ArticleIndexPageFactory, ArticlePageFactory, translate
from tests.newsletter.factories import SubscriberFactory
from tests.newsletter.issue_factories import NewsletterIndexPageFactory, featured, make_issue, text


@pytest.fixture
def sending(settings, smtp):
    settings.NEWSLETTER_BACKEND = "smtp"
    settings.NEWSLETTER_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.NEWSLETTER_RATE_PER_SECOND = None
    settings.NEWSLETTER_WINDOW_CAP = None
    return smtp


@pytest.fixture
def archives(home):
    archive = NewsletterIndexPageFactory(parent=home)
    translate(home, "fr", title="Réseau de hotlines")
    return archive, translate(archive, "fr", title="Lettre d'information")


@pytest.fixture
def issue(archives):
    archive, _ = archives
    return make_issue(archive, audience=Audience.PUBLIC, subject="Network news: takedown",
                      blocks=[text("<p>Hotlines removed most reported content fast.</p>")])


def french(issue, **changes):
    return translate(issue, "fr", subject="Nouvelles du réseau : retrait", **changes)


def send_now(issue):
    send, _ = dispatch.create_send(issue)
    start_send.delay(send.pk)
    send.refresh_from_db()
    return send


def body_text(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_each_subscriber_gets_their_language_or_the_original(issue, sending):
    french(issue, body=json.dumps([text("<p>Les hotlines ont retiré vite la plupart des contenus signalés.</p>")]))
    SubscriberFactory(email="claire@example.org", language="fr")
    SubscriberFactory(email="daan@example.org", language="nl")  # no Dutch translation: the original
    SubscriberFactory(email="ann@example.org", language="en")

    send = send_now(issue)

    sending.wait_for(3)
    by_recipient = {message["To"]: message for message in sending.messages}
    assert by_recipient["claire@example.org"]["Subject"] == "Nouvelles du réseau : retrait"
    assert "Les hotlines ont retiré vite" in body_text(by_recipient["claire@example.org"])
    assert "Hotlines removed" not in body_text(by_recipient["claire@example.org"])
    for english_reader in ("daan@example.org", "ann@example.org"):
        assert by_recipient[english_reader]["Subject"] == "Network news: takedown"
        assert "Hotlines removed most reported content fast." in body_text(by_recipient[english_reader])
    # Personal links stay personal in every language.
    assert "claire@example.org" not in body_text(by_recipient["daan@example.org"])
    assert send.status == Send.Status.DONE


def test_a_draft_translation_does_not_go_out(issue, sending):
    draft = french(issue)
    draft.unpublish()
    SubscriberFactory(email="claire@example.org", language="fr")

    send_now(issue)

    sending.wait_for(1)
    assert sending.messages[0]["Subject"] == "Network news: takedown"


def test_sending_from_the_translation_sends_the_original_with_its_translations(issue, sending):
    version = french(issue)
    SubscriberFactory(email="claire@example.org", language="fr")
    SubscriberFactory(email="ann@example.org", language="en")

    send, created = dispatch.create_send(version)
    again, created_again = dispatch.create_send(issue)

    assert created and not created_again and again.pk == send.pk  # one send, for the original
    assert send.issue_id == issue.pk
    start_send.delay(send.pk)
    sending.wait_for(2)
    subjects = {message["To"]: message["Subject"] for message in sending.messages}
    assert subjects == {"claire@example.org": "Nouvelles du réseau : retrait",
                        "ann@example.org": "Network news: takedown"}


def test_a_translation_linking_a_page_the_audience_may_not_read_stops_the_send(archives, issue, sending, home):
    index = ArticleIndexPageFactory(parent=home, title="Best practices", slug="best-practices")
    french_index = translate(index, "fr", title="Bonnes pratiques", slug="bonnes-pratiques")
    french_only = ArticlePageFactory(parent=french_index, title="Note pour les membres", slug="note-membres")
    french(issue, body=json.dumps([featured(french_only)]))
    # Restricted after the translation was published: caught when sending.
    PageViewRestriction.objects.create(page=french_only, restriction_type=PageViewRestriction.LOGIN)
    SubscriberFactory(email="claire@example.org", language="fr")

    send = send_now(issue)

    assert send.status == Send.Status.PAUSED
    assert "Note pour les membres" in send.paused_reason and "fr translation" in send.paused_reason
    assert not Delivery.objects.filter(send=send, status=Delivery.Status.SENT).exists()
    assert sending.messages == []
    assert Subscriber.objects.filter(email="claire@example.org").exists()
