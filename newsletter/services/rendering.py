"""Rendering newsletter issues: the shared part once per send, only personal links per recipient.

The issue is rendered to HTML with placeholders where personal values go, links made absolute and CSS
inlined, then stored on the Send. Each recipient's message is that text with the placeholders replaced
(string substitution, no template work), plus their RFC 8058 list headers.
"""

from __future__ import annotations

import html as html_lib
import re
from html.parser import HTMLParser

from django.conf import settings
from django.template.loader import render_to_string

from newsletter.backends.base import OutgoingMessage
from newsletter.services import emails, headers, tokens
from newsletter.services.audience import audience_viewers

UNSUBSCRIBE = "%%UNSUBSCRIBE_URL%%"
PREFERENCES = "%%PREFERENCES_URL%%"
EMAIL = "%%EMAIL%%"

_RELATIVE_LINK = re.compile(r'(\s(?:href|src))="/(?!/)')


def issue_context(issue, *, web: bool = False) -> dict:
    """Context for the issue's templates (email and web archive). Personal values are placeholders."""
    return {
        **emails.base_context(),
        "issue": issue,
        "newsletter_viewers": audience_viewers(issue),
        "web": web,
        "unsubscribe_url": UNSUBSCRIBE,
        "preferences_url": PREFERENCES,
        "recipient_email": EMAIL,
    }


def absolutise_links(html: str) -> str:
    """Turn site-relative links and images into absolute ones (emails are read outside the site)."""
    return _RELATIVE_LINK.sub(lambda match: f'{match.group(1)}="{settings.SITE_URL}/', html)


def render_issue(issue) -> emails.RenderedEmail:
    """The issue's subject, HTML (CSS inlined, absolute links) and plain text, with personal placeholders."""
    context = issue_context(issue)
    html = render_to_string("email/newsletter_issue.html", context)
    html = emails.inline_css(absolutise_links(html))
    return emails.RenderedEmail(subject=" ".join(issue.subject.split()), text=html_to_text(html), html=html)


def personalise(send, *, delivery_id: int, email: str, subscriber) -> OutgoingMessage:
    """One recipient's message from a send's stored rendering."""
    unsubscribe = tokens.unsubscribe_url(subscriber)
    preferences = tokens.preferences_url(subscriber)
    html = (send.rendered_html.replace(UNSUBSCRIBE, unsubscribe).replace(PREFERENCES, preferences)
            .replace(EMAIL, html_lib.escape(email)))
    text = send.rendered_text.replace(UNSUBSCRIBE, unsubscribe).replace(PREFERENCES, preferences).replace(EMAIL, email)
    return OutgoingMessage(
        delivery_id=delivery_id,
        to=email,
        subject=send.rendered_subject,
        text=text,
        html=html,
        from_email=emails.sender(),
        headers=headers.list_headers(unsubscribe),
        reply_to=tuple(getattr(settings, "EMAIL_REPLY_TO", []) or []),
    )


class _TextExtractor(HTMLParser):
    """Plain text from the rendered HTML: paragraphs kept, links written as "text (url)", hidden parts skipped."""

    BLOCKS = {"p", "div", "tr", "table", "h1", "h2", "h3", "h4", "li", "blockquote", "br", "ul", "ol"}
    SKIP = {"style", "head", "title", "script"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        self.hidden_depth = 0
        self.links: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in self.SKIP:
            self.skip_depth += 1
        elif self.hidden_depth or "display:none" in (attributes.get("style") or "").replace(" ", ""):
            self.hidden_depth += 1
        if tag == "a":
            self.links.append(attributes.get("href"))
        if tag == "li":
            self.parts.append("\n- ")
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif self.hidden_depth:
            self.hidden_depth -= 1
        if tag == "a" and self.links:
            href = self.links.pop()
            if href and not self.skip_depth and not self.hidden_depth and href.startswith(("http", "%%", "mailto:")):
                self.parts.append(f" ({href})")
        if tag in {"p", "h1", "h2", "h3", "h4", "table", "ul", "ol"}:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip_depth and not self.hidden_depth:
            self.parts.append(" ".join(data.split()) if data.strip() else (" " if data else ""))


def html_to_text(html: str) -> str:
    """A readable plain-text alternative of an HTML email."""
    parser = _TextExtractor()
    parser.feed(html)
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
