"""Blocks editors can put in any page body: related-page cards follow the privacy gate; signup forms work."""

import json

from wagtail.models import PageViewRestriction

from tests.factories import StandardPageFactory, UserFactory


def test_related_page_card_appears_only_for_viewers_who_may_read_it(client, home):
    secret = StandardPageFactory(parent=home, title="Escalation protocol for members")
    PageViewRestriction.objects.create(page=secret, restriction_type=PageViewRestriction.LOGIN)
    open_page = StandardPageFactory(parent=home, title="How hotlines work")
    body = json.dumps([
        {"type": "related_page", "value": {"page": secret.pk, "title": ""}},
        {"type": "related_page", "value": {"page": open_page.pk, "title": ""}},
    ])
    page = StandardPageFactory(parent=home, title="Start here", body=body)

    anonymous = client.get(page.url).content.decode()
    assert "How hotlines work" in anonymous and "Escalation protocol for members" not in anonymous
    client.force_login(UserFactory())
    assert "Escalation protocol for members" in client.get(page.url).content.decode()


def test_signup_block_renders_a_working_form(client, home):
    body = json.dumps([{"type": "newsletter_signup", "value": {"heading": "Stay informed", "text": "",
                                                                "show_topics": False}}])
    page = StandardPageFactory(parent=home, title="Newsletter", body=body)
    html = client.get(page.url).content.decode()
    assert "Stay informed" in html
    assert 'action="/newsletter/subscribe/"' in html and 'name="consent"' in html
