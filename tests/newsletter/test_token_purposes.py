"""Tokens do one thing each (issue 17, point 4).

The reproduction: the one-click unsubscribe POST (no cookies, as mail providers send it) answered with the
preferences link, whose token exported the subscriber's whole record, erased or resubscribed it. Anyone who saw a
forwarded newsletter or its headers could export its recipient's data.
"""

import json
import re
import time
from urllib.parse import unquote

from django.test import Client

import pytest

from newsletter.models import Subscriber
from newsletter.services import privacy, tokens
from tests.newsletter.helpers import links_in, path_of

pytestmark = pytest.mark.django_db

TOKEN_IN_PATH = re.compile(r"/newsletter/(preferences|confirm|data/export|data/erase)/[^/\"'\s]+/")


def one_click(subscriber):
    return Client(enforce_csrf_checks=True).post(
        path_of(tokens.unsubscribe_url(subscriber)), data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )


def test_the_one_click_unsubscribe_answer_carries_no_other_token(subscribed):
    response = one_click(subscribed)
    assert response.status_code == 200
    body = response.content.decode()
    assert "You are unsubscribed" in body
    assert not TOKEN_IN_PATH.search(body), TOKEN_IN_PATH.search(body)
    assert_no_token_but_unsubscribe(body)


def assert_no_token_but_unsubscribe(body: str):
    """Every signed value in the page (links, forms, the language switcher) opens nothing but an unsubscribe."""
    candidates = set(re.findall(r"[\w-]+:[\w-]+:[\w-]+", unquote(body)))
    assert candidates  # the page's own unsubscribe form is there
    for candidate in candidates:
        for purpose in set(tokens.PURPOSES) - {tokens.UNSUBSCRIBE}:
            with pytest.raises(tokens.TokenError):
                tokens.read_token(candidate, purpose)


def test_the_preference_centre_is_reached_from_an_unsubscribe_page_by_email_only(subscribed, committed, mailoutbox):
    unsubscribe = path_of(tokens.unsubscribe_url(subscribed))
    one_click(subscribed)
    answer = committed(Client().post, unsubscribe + "preferences-link/")
    assert answer.status_code == 200 and "Check your inbox" in answer.content.decode()
    assert not TOKEN_IN_PATH.search(answer.content.decode())
    assert_no_token_but_unsubscribe(answer.content.decode())
    assert mailoutbox[-1].to == [subscribed.email]
    link = next(path_of(url) for url in links_in(mailoutbox[-1].body) if "/preferences/" in url)
    assert Client().get(link).status_code == 200


def test_a_preferences_link_cannot_export_or_erase(subscribed, committed, mailoutbox):
    preferences = path_of(tokens.preferences_url(subscribed))
    exported = committed(Client().post, preferences + "export/")
    assert exported.status_code == 200
    assert exported["Content-Type"].startswith("text/html")  # a "check your inbox" page, not the data
    assert subscribed.email not in json.dumps(dict(exported.items()))
    erased = committed(Client().post, preferences + "erase/", {"confirm": "on"})
    assert erased.status_code == 200
    assert Subscriber.objects.filter(pk=subscribed.pk).exists()
    assert [message.to for message in mailoutbox] == [[subscribed.email], [subscribed.email]]

    # Nor does a preferences or unsubscribe token open the export or erase pages directly.
    for purpose in (tokens.PREFERENCES, tokens.UNSUBSCRIBE, tokens.CONFIRM):
        token = tokens.make_token(subscribed, purpose)
        assert Client().post(f"/newsletter/data/export/{token}/").status_code == 400
        assert Client().post(f"/newsletter/data/erase/{token}/", {"confirm": "on"}).status_code == 400
    assert Subscriber.objects.filter(pk=subscribed.pk).exists()


def test_export_and_erase_links_expire_after_an_hour(subscribed, monkeypatch):
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() - 3601)
    old_export = tokens.make_token(subscribed, tokens.EXPORT)
    old_erase = tokens.make_token(subscribed, tokens.ERASE)
    monkeypatch.setattr(time, "time", real_time)
    assert Client().post(f"/newsletter/data/export/{old_export}/").status_code == 400
    assert "expired" in Client().get(f"/newsletter/data/erase/{old_erase}/").content.decode()
    assert Client().post(f"/newsletter/data/erase/{old_erase}/", {"confirm": "on"}).status_code == 400
    assert Subscriber.objects.filter(pk=subscribed.pk).exists()

    fresh = tokens.make_token(subscribed, tokens.EXPORT)
    assert json.loads(Client().post(f"/newsletter/data/export/{fresh}/").content)["email"] == subscribed.email


def test_exports_are_logged(subscribed):
    from wagtail.models import ModelLogEntry

    token = tokens.make_token(subscribed, tokens.EXPORT)
    Client().post(f"/newsletter/data/export/{token}/")
    entry = ModelLogEntry.objects.get(action=privacy.EXPORT_ACTION)
    assert entry.data == {"via": "emailed link"} and subscribed.email not in entry.label


def test_link_emails_are_rate_limited_per_address(subscribed, committed, mailoutbox, settings):
    settings.NEWSLETTER_RATE_LIMIT_LINKS = "2/3600"
    preferences = path_of(tokens.preferences_url(subscribed))
    answers = [committed(Client().post, preferences + "export/").status_code for _ in range(4)]
    assert answers == [200, 200, 429, 429]
    assert len(mailoutbox) == 2


def test_a_forwarded_preferences_link_cannot_put_someone_who_left_back_on_the_list(subscribed, committed, mailoutbox):
    preferences = path_of(tokens.preferences_url(subscribed))
    one_click(subscribed)
    committed(Client().post, preferences + "resubscribe/", {"consent": "on"})
    subscribed.refresh_from_db()
    assert subscribed.status == Subscriber.Status.PENDING  # not on the list until the owner confirms by email
    assert mailoutbox[-1].to == [subscribed.email]
    assert Client().get(preferences).status_code == 400  # and the forwarded links are dead
