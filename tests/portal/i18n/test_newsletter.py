"""Confirmation, welcome and unsubscribe emails and pages speak the subscriber's language; links already
sent keep working unprefixed; a translated newsletter issue keeps its source's audience and restriction."""

from django.core import mail

from wagtail.models import PageViewRestriction

import pytest

from newsletter.models import Subscriber
from newsletter.services import tokens
from portal.core import privacy
from tests.factories import translate

pytestmark = pytest.mark.django_db

def signup(client, email: str, language: str):
    """Sign up through the form; tasks queued on commit run at once (as after a real commit)."""
    response = committed(client.post, "/newsletter/subscribe/", {"email": email, "consent": "on",
                                                                  "language": language})
    assert response.status_code == 200, response.status_code
    return Subscriber.objects.get(email=email)


_capture = None


@pytest.fixture(autouse=True)
def _on_commit(django_capture_on_commit_callbacks):
    global _capture
    _capture = django_capture_on_commit_callbacks
    yield
    _capture = None


def committed(function, *args, **kwargs):
    with _capture(execute=True):
        return function(*args, **kwargs)


def test_confirmation_and_welcome_emails_and_pages_in_the_subscribers_language(client, home):
    subscriber = signup(client, "ana@example.org", "fr")
    confirmation = mail.outbox[-1]
    assert confirmation.subject.startswith("Veuillez confirmer votre abonnement")
    assert "Confirmez en ouvrant ce lien" in confirmation.body
    assert "Oui, abonnez-moi" in confirmation.alternatives[0][0]

    confirm_url = tokens.confirm_url(subscriber)
    asked = client.get(confirm_url.replace("http://testserver", ""), headers={"accept-language": "en"})
    assert "Confirmez votre abonnement" in asked.content.decode()
    page = committed(client.post, confirm_url.replace("http://testserver", ""), headers={"accept-language": "en"})
    assert page.status_code == 200
    body = page.content.decode()
    assert 'lang="fr"' in body and "Abonnement confirmé" in body
    welcome = mail.outbox[-1]
    assert welcome.subject.startswith("Bienvenue")
    assert "Se désabonner en un clic" in welcome.body

    unsubscribe_path = tokens.unsubscribe_url(subscriber).replace("http://testserver", "")
    assert "Se désabonner de la lettre d\u2019information" in client.get(unsubscribe_path).content.decode()
    done = client.post(unsubscribe_path, {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200  # RFC 8058: answered in place, never redirected
    assert "Vous êtes désabonné" in done.content.decode()


def test_german_and_english_subscribers_get_their_own_language(client, home):
    signup(client, "jonas@example.org", "de")
    assert mail.outbox[-1].subject.startswith("Bitte bestätigen Sie Ihr Abonnement")
    signup(client, "sam@example.org", "en")
    assert mail.outbox[-1].subject.startswith("Please confirm your subscription")


def test_a_language_without_interface_translation_falls_back_to_english(client, home, settings):
    subscriber = Subscriber.objects.create(email="x@example.org", language="xx")
    from newsletter.services.emails import send_confirmation_email

    send_confirmation_email(subscriber)
    assert mail.outbox[-1].subject.startswith("Please confirm your subscription")


def test_signup_defaults_to_the_language_being_read(client, home):
    client.cookies["portal_language"] = "nl"
    committed(client.post, "/newsletter/subscribe/", {"email": "noor@example.org", "consent": "on"})
    assert Subscriber.objects.get(email="noor@example.org").language == "nl"


def test_a_translated_issue_keeps_its_sources_audience_and_restriction(home):
    from newsletter.models import Audience
    from tests.newsletter.issue_factories import NewsletterIndexPageFactory, NewsletterIssueFactory

    archive = NewsletterIndexPageFactory(parent=home)
    issue = NewsletterIssueFactory(parent=archive, audience=Audience.MEMBERS)
    issue.save_revision().publish()
    assert PageViewRestriction.objects.filter(page=issue).exists()
    translate(home, "fr")
    translate(archive, "fr")
    fr_issue = translate(issue, "fr", title="Numéro traduit")
    assert fr_issue.audience == Audience.MEMBERS
    # The restriction lives on the original and covers every language version (the effective rule).
    rules = privacy.effective_restrictions(fr_issue)
    assert [rule.page_id for rule in rules] == [issue.pk]
    assert not privacy.can_view(fr_issue, privacy.Viewer.anonymous())
