"""Transactional emails: rendered from templates, CSS inlined, plain-text alternative, sender and Reply-To."""

import pytest

from newsletter.services.emails import build_message, render_email
from newsletter.services.privacy import user_agent_family
from tests.newsletter.factories import SubscriberFactory

pytestmark = pytest.mark.django_db


def test_confirmation_renders_html_with_inlined_css_and_a_text_alternative(settings):
    subscriber = SubscriberFactory(status="pending", email="reader@example.org")
    rendered = render_email("confirmation", {"subscriber": subscriber, "confirm_url": "https://x.example/c/1/",
                                             "valid_days": 3, "topics": []})
    assert rendered.subject == "Please confirm your subscription to the Hotline Network Portal newsletter"
    assert "https://x.example/c/1/" in rendered.text
    assert "<table" not in rendered.text
    body = rendered.html.split("<body", 1)[1]
    assert 'class="button-link"' in body and "style=" in body
    assert "background-color: #0f7b6c" in body  # the button cell got its colour inline
    assert "@media" in rendered.html  # responsive rules kept for clients that support them

    settings.EMAIL_REPLY_TO = ["help@example.org"]
    settings.NEWSLETTER_FROM_EMAIL = "Hotline News <news@example.org>"
    message = build_message(subscriber.email, rendered)
    assert message.from_email == "Hotline News <news@example.org>"
    assert message.reply_to == ["help@example.org"]
    assert message.alternatives[0].mimetype == "text/html"


def test_text_templates_do_not_html_escape():
    subscriber = SubscriberFactory(email="o'brien@example.org")
    rendered = render_email("confirmation", {"subscriber": subscriber, "confirm_url": "https://x.example/?a=1&b=2",
                                             "valid_days": 1})
    assert "o'brien@example.org" in rendered.text
    assert "https://x.example/?a=1&b=2" in rendered.text


@pytest.mark.parametrize(("agent", "family"), [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
     "Chrome"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36 Edg/130.0", "Edge"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Safari/604.1",
     "Safari"),
    ("curl/8.5.0", "Bot or script"),
    ("", ""),
])
def test_only_the_browser_family_is_kept(agent, family):
    assert user_agent_family(agent) == family
