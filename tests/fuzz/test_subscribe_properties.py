"""Property tests for the public signup endpoint (/newsletter/subscribe/), through the Django test client.

Anyone on the internet can post anything to it. Whatever arrives, the answer is a page (200, or 400 for the
honeypot) that says what happened: the "check your inbox" page for a valid signup, otherwise the form again with
each problem listed. Never a server error (the test client re-raises any exception a view lets escape), and
never a subscriber row for a submission that was refused.
"""

from __future__ import annotations

import re

from django.test import Client

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from newsletter.models import Subscriber
from portal.core.request_guard import has_control_character
from tests.factories import TopicFactory

URL = "/newsletter/subscribe/"
ERROR_ITEM = re.compile(r'role="alert".*?<li><a href="#[^"]*">[^<]+</a></li>', re.S)

emails = st.one_of(
    st.emails(),
    st.emails().map(lambda address: f"  {address.upper()} "),
    st.text(max_size=60),
    st.sampled_from(["", "@", "a@b", "a@b.c", "no-at-sign.example.org", "x" * 250 + "@example.org",
                     "ümlaut@exämple.org", "a@[127.0.0.1]", "a\x00@example.org", "a@example.org\n"]),
)
texts = st.one_of(st.text(max_size=30), st.sampled_from(["", "on", "true", "off", "\x00"]))


@pytest.fixture
def open_limits(settings):
    """Signup rate limits out of the way: here we test what any single request gets back."""
    settings.NEWSLETTER_RATE_LIMIT_IP = "1000000/3600"
    settings.NEWSLETTER_RATE_LIMIT_ADDRESS = "1000000/3600"
    TopicFactory(name="Prevention", slug="prevention")


@pytest.mark.django_db
@given(
    email=emails,
    topics=st.lists(st.one_of(st.just("prevention"), st.text(max_size=20)), max_size=3),
    language=texts,
    consent=texts,
    source=texts,
    website=st.one_of(st.just(""), st.just(""), st.text(max_size=10)),
)
@example(email="a@example.org", topics=["\x00"], language="en", consent="on", source="", website="")
@example(email="a@example.org", topics=[], language="en", consent="on", source="\x00", website="")
def test_any_submission_gets_a_page_that_says_what_happened(open_limits, email, topics, language, consent, source,
                                                            website):
    before = Subscriber.objects.count()
    data = {"email": email, "topics": topics, "language": language, "consent": consent, "source": source,
            "website": website}
    response = Client().post(URL, data)
    page = response.content.decode()

    assert response.status_code in (200, 400), response.status_code
    if response.status_code == 400:
        assert website.strip(), "only the honeypot is answered with 400"
        assert "We could not accept that submission" in page
        assert Subscriber.objects.count() == before
    elif "<h1>Check your inbox</h1>" in page:
        assert consent and not website.strip()
        assert Subscriber.objects.filter(email__iexact=email.strip()).exists()
    else:
        assert ERROR_ITEM.search(page) or "One more step" in page, "a refused signup must say what to correct"
        assert Subscriber.objects.count() == before


@pytest.mark.django_db
@given(email=st.text(max_size=300))
@example(email='"><script>alert(1)</script>')
def test_the_signup_page_prefills_any_address_safely(email):
    response = Client().get(URL, {"email": email})
    if has_control_character(email):
        assert response.status_code == 400  # refused by the request guard before the view
        return
    assert response.status_code == 200
    assert "<script>alert" not in response.content.decode()  # the address is escaped, never markup
