"""Small helpers for reading emails in the newsletter tests."""

import re


def links_in(text: str) -> list[str]:
    """Every http(s) link in a text."""
    return re.findall(r"https?://[^\s<>\"']+", text)


def text_part(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_part(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def path_of(url: str) -> str:
    """The path of an absolute URL built on SITE_URL (the test client needs a path)."""
    return re.sub(r"^https?://[^/]+", "", url)
