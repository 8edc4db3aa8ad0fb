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
from django.utils import translation

from newsletter.backends.base import OutgoingMessage
from newsletter.conf import conf
from newsletter.services import emails, engagement, headers, tokens
from newsletter.services.audience import audience_viewers, original_issue
from newsletter.services.languages import issue_language
from portal.core import privacy

UNSUBSCRIBE = "%%UNSUBSCRIBE_URL%%"
PREFERENCES = "%%PREFERENCES_URL%%"
EMAIL = "%%EMAIL%%"

_RELATIVE_LINK = re.compile(r'(\s(?:href|src))="/(?!/)')


def issue_context(issue, *, web: bool = False, audience_of=None) -> dict:
    """Context for the issue's templates (email and web archive). Personal values are placeholders.

    ``audience_of``: the issue whose audience picks automatic lists (the original, for a translation).
    """
    return {
        **emails.base_context(),
        "issue": issue,
        "newsletter_viewers": audience_viewers(audience_of or original_issue(issue)),
        "web": web,
        "unsubscribe_url": UNSUBSCRIBE,
        "preferences_url": PREFERENCES,
        "recipient_email": EMAIL,
    }


def web_issue_context(issue) -> dict:
    """Context of the issue's page in the web archive: the issue's context and who it is for."""
    from newsletter.services import gate

    return {**issue_context(issue, web=True), "audience_description": gate.audience_description(original_issue(issue))}


def absolutise_links(html: str) -> str:
    """Turn site-relative links and images into absolute ones (emails are read outside the site)."""
    return _RELATIVE_LINK.sub(lambda match: f'{match.group(1)}="{settings.SITE_URL}/', html)


def render_issue(issue, *, audience_of=None, send_id: int | None = None) -> emails.RenderedEmail:
    """The issue's subject, HTML (CSS inlined, absolute links) and plain text, with personal placeholders.

    Rendered in the issue's own language, so the email's fixed wording matches its content. For a send
    (``send_id``), web links go through the click-counting redirect (``engagement``); previews and tests link
    directly.
    """
    with translation.override(issue_language(issue)):
        context = issue_context(issue, audience_of=audience_of)
        # Every reference is rendered only if every audience viewer may open it (``portal.core.privacy``).
        with privacy.viewing_as(context["newsletter_viewers"]):
            html = render_to_string("email/newsletter_issue.html", context)
    html = emails.inline_css(absolutise_links(html))
    if send_id is not None:
        html = engagement.track_links(html, send_id)
    return emails.RenderedEmail(subject=" ".join(issue.subject.split()), text=html_to_text(html), html=html)


def live_translations(issue) -> list:
    """The issue's other language versions that are published (drafts never go out)."""
    if getattr(issue, "locale", None) is None:
        return []
    return [page.specific for page in issue.get_translations().live().select_related("locale")]


def render_translations(issue, *, send_id: int | None = None) -> dict[str, dict[str, str]]:
    """Every live translation rendered once, by language code; each must pass the gate for the original's audience.

    Raises ``GateError`` naming the page and the language when a translation links to a page part of the
    audience may not read.
    """
    rendered = {}
    for version in live_translations(issue):
        language = issue_language(version)
        _check_translation(version, issue, language)
        email = render_issue(version, audience_of=issue, send_id=send_id)
        rendered[language] = {"subject": email.subject, "html": email.html, "text": email.text}
    return rendered


def _check_translation(version, original, language: str) -> None:
    """The gate for a translation, with the original's audience; its violations name the language."""
    from newsletter.services import gate

    try:
        gate.check_issue(version, audience_of=original)
    except gate.GateError as exc:
        raise gate.GateError(
            [gate.Violation(v.title, f"{v.message} (in the {language} translation)") for v in exc.violations]
        ) from exc


def translation_key(send, language: str | None) -> str:
    """The language code of the translation a reader of ``language`` gets, or "" for the original."""
    translations = send.rendered_translations or {}
    for key in ((language, language.split("-")[0].lower()) if language else ()):
        if key in translations:
            return key
    return ""


def rendering_for(send, language: str | None) -> tuple[str, str, str]:
    """Subject, HTML and text for a reader of ``language``: their translation when there is one, else the original."""
    key = translation_key(send, language)
    if key:
        version = send.rendered_translations[key]
        return version["subject"], version["html"], version["text"]
    return send.rendered_subject, send.rendered_html, send.rendered_text


def personalise(send, *, delivery_id: int, email: str, subscriber) -> OutgoingMessage:
    """One recipient's message from a send's stored rendering, in the recipient's language when translated."""
    subject, shared_html, shared_text = rendering_for(send, getattr(subscriber, "language", None))
    unsubscribe = tokens.unsubscribe_url(subscriber)
    preferences = tokens.preferences_url(subscriber)
    html = (shared_html.replace(UNSUBSCRIBE, unsubscribe).replace(PREFERENCES, preferences)
            .replace(EMAIL, html_lib.escape(email)))
    text = shared_text.replace(UNSUBSCRIBE, unsubscribe).replace(PREFERENCES, preferences).replace(EMAIL, email)
    if engagement.STAMP_SLOT in html or engagement.STAMP_SLOT in text:
        stamp = engagement.stamp(subscriber)  # one per message: its time, and who only if they opted in
        html, text = html.replace(engagement.STAMP_SLOT, stamp), text.replace(engagement.STAMP_SLOT, stamp)
    return OutgoingMessage(
        delivery_id=delivery_id,
        to=email,
        subject=subject,
        text=text,
        html=html,
        from_email=emails.sender(),
        headers=headers.list_headers(unsubscribe, tokens.mailto_unsubscribe_token(subscriber)),
        envelope_sender=headers.return_path(delivery_id),
        reply_to=tuple(conf.EMAIL_REPLY_TO or []),
    )


class _TextExtractor(HTMLParser):
    """Plain text from the rendered HTML: paragraphs kept, links written as "text (url)", hidden parts skipped."""

    BLOCKS = {"p", "div", "tr", "table", "h1", "h2", "h3", "h4", "li", "blockquote", "br", "ul", "ol"}
    #: What an opening tag writes: a line break before a block, a dash before a list item.
    OPENING = {**dict.fromkeys(BLOCKS, "\n"), "li": "\n- "}
    #: Blocks that also end with a line break.
    CLOSING = {"p", "h1", "h2", "h3", "h4", "table", "ul", "ol"}
    SKIP = {"style", "head", "title", "script"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0
        self.hidden_depth = 0
        self.links: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self._enter(tag, attributes.get("style") or "")
        if tag == "a":
            self.links.append(attributes.get("href"))
        self.parts.append(self.OPENING.get(tag, ""))

    def handle_endtag(self, tag):
        self._leave(tag)
        if tag == "a" and self.links:
            self._write_link(self.links.pop())
        if tag in self.CLOSING:
            self.parts.append("\n")

    def handle_data(self, data):
        if self._shown():
            # Whitespace between tags still separates words (lines are collapsed in ``html_to_text``).
            self.parts.append(" ".join(data.split()) or " ")

    def _enter(self, tag: str, style: str) -> None:
        """Count one more level of a skipped element, or of a hidden one (inside one, or ``display:none``)."""
        if tag in self.SKIP:
            self.skip_depth += 1
        elif self.hidden_depth or "display:none" in style.replace(" ", ""):
            self.hidden_depth += 1

    def _leave(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif self.hidden_depth:
            self.hidden_depth -= 1

    def _shown(self) -> bool:
        """Whether the parser is outside skipped and hidden parts (what is written reaches the reader)."""
        return not self.skip_depth and not self.hidden_depth

    def _write_link(self, href: str | None) -> None:
        """A closed link's address after its text, when it is shown and leads somewhere a reader can go."""
        if href and self._shown() and href.startswith(("http", "%%", "mailto:")):
            self.parts.append(f" ({href})")


def html_to_text(html: str) -> str:
    """A readable plain-text alternative of an HTML email."""
    parser = _TextExtractor()
    parser.feed(html)
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
