"""The confirmation email fits a phone and a 600 px mail pane: its copy-this-link URL wraps (issue 20, point 9)."""

from types import SimpleNamespace

import pytest

from newsletter.services.emails import render_email
from tests.e2e.conftest import fresh_page

LONG_URL = "https://portal.example.org/newsletter/confirm/" + "eyJzIjoxMjM0NTYsInQiOiJjb25maXJtIn0" * 4 + "/"


@pytest.mark.parametrize("width", [375, 600])
def test_the_confirmation_email_is_no_wider_than_the_screen(new_context, width, db):
    rendered = render_email("confirmation", {
        "subscriber": SimpleNamespace(email="reader@example.org", language="en"), "topics": [],
        "confirm_url": LONG_URL, "preferences_url": LONG_URL, "unsubscribe_url": LONG_URL, "valid_days": 3,
    })
    assert LONG_URL in rendered.html
    page = fresh_page(new_context, viewport={"width": width, "height": 800})
    page.set_content(rendered.html)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
