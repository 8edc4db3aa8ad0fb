"""Absolute URLs in emails come from SITE_URL only, and ALLOWED_HOSTS entries with a port are enforced with
their port (issue 17, point 5).

The reproduction: with ``ALLOWED_HOSTS=portal.example.org``, a password-reset request sent with
``Host: portal.example.org:31337`` mailed a link to port 31337 (Django checks host names, not ports).
"""

import re

from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse

import pytest

from newsletter.services import tokens
from portal.core.hosts import port_allowed
from portal.settings.base import split_host_ports
from tests.factories import UserFactory
from tests.newsletter.factories import SubscriberFactory
from tests.newsletter.helpers import links_in, path_of

HOSTILE = "portal.example.org:31337"


@pytest.fixture
def production_like_hosts(settings):
    settings.ALLOWED_HOSTS = ["portal.example.org"]
    settings.SITE_URL = settings.WAGTAILADMIN_BASE_URL = "https://portal.example.org"


def all_links() -> list[str]:
    found = []
    for message in mail.outbox:
        found += links_in(message.body)
        for content, _type in getattr(message, "alternatives", []):
            found += links_in(content)
    return found


def test_the_password_reset_link_follows_site_url_not_the_host_header(home, production_like_hosts):
    UserFactory(username="officer", email="officer@police.example")
    response = Client(HTTP_HOST=HOSTILE).post(reverse("members:password_reset"), {"email": "officer@police.example"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    links = all_links()
    assert links and all(link.startswith("https://portal.example.org/") for link in links), links
    assert "31337" not in mail.outbox[0].body + mail.outbox[0].alternatives[0][0]
    assert re.search(r"https://portal\.example\.org/\S*/password/reset/[^/]+/[^/]+/", mail.outbox[0].body)
    assert "Hotline Network" in mail.outbox[0].subject  # the site's name, not the host


def test_the_admin_password_reset_link_follows_site_url(home, production_like_hosts):
    UserFactory(username="editor", email="editor@example.org", is_staff=True)
    Client(HTTP_HOST=HOSTILE).post(reverse("wagtailadmin_password_reset"), {"email": "editor@example.org"})
    links = all_links()
    assert links and all(link.startswith("https://portal.example.org/") for link in links), links


def test_no_email_carries_a_hostile_host(home, settings, committed):
    """With any Host accepted (the test settings' ALLOWED_HOSTS is "*"), no email built in that request names it."""
    evil = "evil.example:8080"
    client = Client(HTTP_HOST=evil)
    UserFactory(username="member", email="member@example.org")
    committed(client.post, reverse("members:password_reset"), {"email": "member@example.org"})
    committed(client.post, "/newsletter/subscribe/", {"email": "new@example.org", "consent": "on"})
    subscriber = SubscriberFactory(email="reader@example.org", status="subscribed")
    committed(client.post, path_of(tokens.preferences_url(subscriber)) + "export/")
    committed(client.post, path_of(tokens.unsubscribe_url(subscriber)) + "preferences-link/")
    assert len(mail.outbox) == 4
    for message in mail.outbox:
        text = message.body + "".join(content for content, _type in getattr(message, "alternatives", []))
        assert "evil.example" not in text, message.subject
    assert all(link.startswith(settings.SITE_URL) for link in all_links() if "example.org" not in link)


@pytest.mark.parametrize(("host", "status"), [
    ("portal.example.org:8443", 302), ("portal.example.org:31337", 400), ("portal.example.org", 400),
    ("PORTAL.example.org:8443", 302), ("other.example.org:8443", 400),
])
def test_allowed_hosts_with_a_port_refuse_other_ports(home, settings, host, status):
    settings.ALLOWED_HOSTS, settings.ALLOWED_HOST_PORTS = split_host_ports(["portal.example.org:8443"])
    assert Client(HTTP_HOST=host).get("/").status_code == status


def test_entries_without_a_port_keep_djangos_rule(home, settings):
    settings.ALLOWED_HOSTS, settings.ALLOWED_HOST_PORTS = split_host_ports(
        ["portal.example.org", "portal.example.org:8443", "localhost"])
    assert Client(HTTP_HOST="portal.example.org").get("/").status_code == 302  # to the language's home page
    assert Client(HTTP_HOST="portal.example.org:8443").get("/").status_code == 302
    assert Client(HTTP_HOST="portal.example.org:31337").get("/").status_code == 400
    assert Client(HTTP_HOST="localhost:8000").get("/").status_code == 302  # no port configured for localhost


def test_split_host_ports():
    assert split_host_ports(["a.example", "B.example:8443", "[::1]:8000", "[::1]", ".example.net"]) == (
        ["a.example", "b.example", "[::1]", ".example.net"],
        [("a.example", ""), ("b.example", "8443"), ("[::1]", "8000"), ("[::1]", ""), (".example.net", "")],
    )
    assert split_host_ports(["a.example", "localhost"]) == (["a.example", "localhost"], [])
    with pytest.raises(ImproperlyConfigured):
        split_host_ports(["a.example:http"])
    assert port_allowed("[::1]:8000", [("[::1]", "8000")])
    assert not port_allowed("[::1]:9000", [("[::1]", "8000")])
    assert port_allowed("x.example.net:1", [(".example.net", "1")])
