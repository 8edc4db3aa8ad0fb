"""Signing up: double opt-in through a real SMTP server, the footer's short form, members, the page block."""

from django.urls import reverse

import pytest

from newsletter.models import ConsentRecord, Subscriber
from tests.factories import UserFactory
from tests.newsletter.helpers import html_part, links_in, path_of, text_part

SUBSCRIBE = "/newsletter/subscribe/"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

pytestmark = pytest.mark.django_db


@pytest.fixture
def signup(client, committed):
    """Submit the full signup form (with consent) from one browser and IP; tasks run as on commit."""

    def submit(email, **extra):
        data = {"email": email, "consent": "on", **extra}
        return committed(client.post, SUBSCRIBE, data, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.7")

    return submit


def test_signup_confirmation_by_real_smtp_then_link_confirms_and_welcome_follows(
    client, signup, committed, smtp, topics, settings
):
    settings.EMAIL_REPLY_TO = ["team@example.org"]
    settings.SITE_URL = "https://testserver"  # RFC 8058 one-click needs an https link
    response = signup("New.Reader@Example.ORG", topics=["prevention"], language="fr")

    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()
    subscriber = Subscriber.objects.get()
    assert subscriber.status == Subscriber.Status.PENDING
    assert subscriber.email == "New.Reader@example.org"
    assert [t.slug for t in subscriber.topics.all()] == ["prevention"]
    assert subscriber.language == "fr"

    # The confirmation went through a real SMTP conversation.
    [confirmation] = smtp.wait_for(1)
    assert smtp.recipients == ["New.Reader@example.org"]
    assert "confirm" in confirmation["Subject"].lower()
    assert confirmation["Reply-To"] == "team@example.org"
    assert "newsletter@example.org" in confirmation["From"]
    assert confirmation["Message-ID"].endswith("@example.org>")  # the sender's domain, never "localhost"
    assert "List-Unsubscribe" not in confirmation  # not on the list yet
    confirm_links = [url for url in links_in(text_part(confirmation)) if "/newsletter/confirm/" in url]
    assert len(confirm_links) == 1
    html = html_part(confirmation)
    assert confirm_links[0] in html
    assert 'style="' in html and "<style" not in html.split("<body")[1]  # CSS inlined into the body

    # Opening the link (as every mail scanner does, GET and HEAD) only shows a button; nothing changes.
    for fetch in (client.get, client.head):
        assert committed(fetch, path_of(confirm_links[0]), HTTP_USER_AGENT="Barracuda link scanner").status_code == 200
    asked = committed(client.get, path_of(confirm_links[0]), HTTP_USER_AGENT=BROWSER)
    body = asked.content.decode()
    assert "Confirmez votre abonnement" in body and 'method="post"' in body
    assert 'action="' + path_of(confirm_links[0]) + '"' in body
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.PENDING and len(smtp.messages) == 1  # no welcome yet
    assert asked["Referrer-Policy"] == "same-origin"

    page = committed(client.post, path_of(confirm_links[0]), HTTP_USER_AGENT=BROWSER)
    assert page.status_code == 200
    assert "Abonnement confirmé" in page.content.decode()  # the page speaks the subscriber's language (fr)
    assert page["Cache-Control"].startswith("max-age=0") or "no-store" in page["Cache-Control"]
    assert page["Referrer-Policy"] == "same-origin"
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.SUBSCRIBED
    assert subscriber.confirmed_at is not None

    welcome = smtp.wait_for(2)[1]
    assert "bienvenue" in welcome["Subject"].lower()  # in French, the language chosen at signup
    assert welcome["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/newsletter/unsubscribe/" in welcome["List-Unsubscribe"]
    assert "/newsletter/unsubscribe/" in text_part(welcome)  # a visible unsubscribe link too
    assert "Prevention" in text_part(welcome)

    events = list(subscriber.consents.values_list("event", "form", "user_agent_family"))
    assert events == [("given", "signup_page", "Firefox"), ("confirmed", "confirmation_link", "Firefox")]
    assert all(len(record.ip_hash) == 64 and "203.0.113.7" not in record.ip_hash
               for record in subscriber.consents.all())

    # Confirming again is harmless: same subscriber, no second welcome.
    for fetch in (client.get, client.post):
        again = committed(fetch, path_of(confirm_links[0]))
        assert again.status_code == 200
        assert "déjà abonné" in again.content.decode()  # "already subscribed", in French
    assert len(smtp.messages) == 2
    assert subscriber.consents.count() == 2


def _strip_csrf(html: str) -> str:
    import re

    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_same_answer_for_new_pending_and_subscribed_addresses(signup, pending, subscribed, mailoutbox):
    # The page echoes the submitted address, so submit one address per state with the same length.
    new, waiting, member = "fresh.person@example.org", pending.email, subscribed.email
    responses = [signup(address) for address in (new, waiting, member)]

    statuses = {response.status_code for response in responses}
    assert statuses == {200}
    bodies = [_strip_csrf(response.content.decode()).replace(address, "ADDRESS")
              for response, address in zip(responses, (new, waiting, member), strict=True)]
    assert bodies[0] == bodies[1] == bodies[2]
    assert {key for key, _ in responses[0].items()} == {key for key, _ in responses[2].items()}
    # Behind the identical answer: only the new address got an email; the subscriber was not touched.
    assert [message.to for message in mailoutbox] == [[new]]
    subscribed.refresh_from_db()
    assert subscribed.status == Subscriber.Status.SUBSCRIBED


def test_footer_short_form_without_consent_shows_the_full_form_with_the_address_kept(client, topics):
    response = client.post(SUBSCRIBE, {"email": "footer.person@example.org"})

    assert response.status_code == 200
    body = response.content.decode()
    assert "One more step" in body
    assert 'value="footer.person@example.org"' in body
    assert 'name="consent"' in body and 'name="topics"' in body
    assert 'name="source" value="footer"' in body
    assert not Subscriber.objects.exists()

    # Completing it records the footer as the source.
    done = client.post(SUBSCRIBE, {"email": "footer.person@example.org", "consent": "on", "source": "footer"})
    assert "Check your inbox" in done.content.decode()
    assert Subscriber.objects.get().source == Subscriber.Source.FOOTER


def test_missing_consent_on_full_form_is_explained(client):
    response = client.post(SUBSCRIBE, {"email": "x@example.org", "source": "signup_page"})
    assert response.status_code == 200
    assert "tick the box to agree" in response.content.decode()
    assert not Subscriber.objects.exists()


def test_signup_page_renders_form_with_consent_text_and_prefill(client, topics):
    response = client.get(SUBSCRIBE + "?email=someone@example.org")
    body = response.content.decode()
    assert response.status_code == 200
    assert "I want to receive the Hotline Network Portal newsletter" in body
    assert 'value="someone@example.org"' in body
    assert "Notice and takedown" in body
    assert 'aria-hidden="true"' in body  # the honeypot is hidden from assistive technology


def test_honeypot_stops_bots_with_a_clear_message(client, mailoutbox):
    response = client.post(SUBSCRIBE, {"email": "bot@example.org", "consent": "on", "website": "http://spam"})
    assert response.status_code == 400
    assert "field that should stay empty" in response.content.decode()
    assert not Subscriber.objects.exists()
    assert mailoutbox == []


def test_per_ip_rate_limit_answers_429_with_a_clear_page(client, signup, settings, mailoutbox):
    settings.NEWSLETTER_RATE_LIMIT_IP = "3/600"
    codes = [signup(f"person{n}@example.org").status_code for n in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    throttled = signup("later@example.org")
    assert "Too many attempts" in throttled.content.decode()
    assert 0 < int(throttled["Retry-After"]) <= 600
    assert Subscriber.objects.count() == 3
    # Another IP is not affected.
    other = client.post(SUBSCRIBE, {"email": "other@example.org", "consent": "on"}, REMOTE_ADDR="198.51.100.9")
    assert other.status_code == 200


def test_per_address_rate_limit_applies_across_ips(client, committed, settings, mailoutbox):
    settings.NEWSLETTER_RATE_LIMIT_ADDRESS = "2/3600"
    codes = [
        committed(client.post, SUBSCRIBE, {"email": "Target@example.org", "consent": "on"},
                  REMOTE_ADDR=f"192.0.2.{n}").status_code
        for n in range(4)
    ]
    assert codes == [200, 200, 429, 429]
    assert len(mailoutbox) == 1  # and the resend cooldown kept it to one email


def test_pending_address_gets_a_new_link_only_after_the_cooldown(signup, settings, mailoutbox):
    settings.NEWSLETTER_CONFIRMATION_RESEND_COOLDOWN = 0
    signup("again@example.org")
    signup("again@example.org")
    assert len(mailoutbox) == 2
    settings.NEWSLETTER_CONFIRMATION_RESEND_COOLDOWN = 600
    signup("again@example.org")
    assert len(mailoutbox) == 2


def test_logged_in_member_subscribes_in_one_click_without_confirmation_email(client, committed, mailoutbox, topics):
    user = UserFactory(email="member@example.org")
    client.force_login(user)
    page = client.get(SUBSCRIBE)
    assert "Subscribe member@example.org" in page.content.decode()

    response = committed(client.post, reverse("newsletter:subscribe_member"), HTTP_USER_AGENT=BROWSER)

    assert response.status_code == 200
    assert "You are subscribed" in response.content.decode()
    subscriber = Subscriber.objects.get()
    assert (subscriber.email, subscriber.status, subscriber.user) == ("member@example.org", "subscribed", user)
    assert subscriber.consents.get().event == ConsentRecord.Event.CONFIRMED
    assert len(mailoutbox) == 1 and "Welcome" in mailoutbox[0].subject


def test_member_one_click_requires_login(client):
    response = client.post(reverse("newsletter:subscribe_member"))
    assert response.status_code == 302
    assert not Subscriber.objects.exists()


def test_signup_block_renders_a_working_form(rf, topics):
    from newsletter.blocks import NewsletterSignupBlock

    block = NewsletterSignupBlock()
    html = block.render(block.to_python({"heading": "Stay informed", "text": "Monthly news.", "show_topics": True}))
    assert "Stay informed" in html
    assert 'action="/newsletter/subscribe/"' in html
    assert 'name="source" value="block"' in html
    assert "Prevention" in html
    hidden = block.render(block.to_python({"heading": "Stay informed", "show_topics": False}))
    assert "Prevention" not in hidden


def test_mail_server_outage_does_not_change_the_answer(signup, settings):
    from tests.smtp_sink import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2

    response = signup("unlucky@example.org")

    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


def test_the_error_summary_names_each_field_it_points_to(client, db):
    # Issue 20, point 13: the summary said "This field is required." without saying which field.
    from bs4 import BeautifulSoup

    response = client.post(SUBSCRIBE, {"email": "", "language": "en"})
    soup = BeautifulSoup(response.content, "html.parser")
    summary = soup.select_one("[role=alert] ul")
    assert summary is not None, response.content[:500]
    items = {a["href"]: a.get_text(" ", strip=True) for a in summary.select("a")}
    email = soup.select_one("input[name=email]")
    assert items[f"#{email['id']}"].startswith("Email address:")
    assert all(":" in text and not text.startswith("This field") for text in items.values())
