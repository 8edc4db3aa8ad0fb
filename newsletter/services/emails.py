"""Transactional email: render subject, plain text and HTML from templates, inline the CSS, send.

Templates for an email called ``name`` live in ``templates/email/``: ``name_subject.txt``, ``name.txt`` and
``name.html`` (which extends the table-based ``email/base.html``). CSS in ``<style>`` is inlined with
css-inline; media queries stay in a ``<style>`` tag for clients that support them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

import css_inline

from newsletter.conf import conf
from newsletter.services import headers, tokens
from portal.core.i18n import supported_language

_INLINER = css_inline.CSSInliner(keep_style_tags=False, keep_at_rules=True, load_remote_stylesheets=False)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def base_context() -> dict:
    """Values every email template can use."""
    return {"site_name": settings.WAGTAIL_SITE_NAME, "site_url": settings.SITE_URL}


def inline_css(html: str) -> str:
    """Move ``<style>`` rules into ``style`` attributes (most email clients ignore style sheets)."""
    return _INLINER.inline(html)


def render_email(name: str, context: dict) -> RenderedEmail:
    """Render the three templates of email ``name`` with ``context`` (plus the base context)."""
    context = {**base_context(), **context}
    subject = " ".join(render_to_string(f"email/{name}_subject.txt", context).split())
    text = render_to_string(f"email/{name}.txt", context).strip() + "\n"
    html = inline_css(render_to_string(f"email/{name}.html", context))
    return RenderedEmail(subject=subject, text=text, html=html)


def sender() -> str:
    return conf.NEWSLETTER_FROM_EMAIL or settings.DEFAULT_FROM_EMAIL


def build_message(to: str, rendered: RenderedEmail, extra_headers: dict | None = None) -> EmailMultiAlternatives:
    """A multipart (text + HTML) message from the newsletter sender, with ``Reply-To`` from settings."""
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=sender(),
        to=[to],
        reply_to=list(conf.EMAIL_REPLY_TO or []),
        headers=extra_headers or {},
    )
    message.attach_alternative(rendered.html, "text/html")
    return message


def _subscriber_context(subscriber) -> dict:
    return {
        "subscriber": subscriber,
        "topics": list(subscriber.topics.all()),
        "preferences_url": tokens.preferences_url(subscriber),
        "unsubscribe_url": tokens.unsubscribe_url(subscriber),
    }


def send_confirmation_email(subscriber) -> None:
    """Send the double opt-in email with a signed, expiring confirmation link, in the subscriber's language.

    Not a newsletter: the address is not on the list yet, so it carries no List-Unsubscribe headers.
    """
    context = {
        **_subscriber_context(subscriber),
        "confirm_url": tokens.confirm_url(subscriber),
        "valid_days": max(1, round(tokens.confirm_max_age() / 86400)),
    }
    with translation.override(supported_language(subscriber.language)):
        rendered = render_email("confirmation", context)
    build_message(subscriber.email, rendered).send()


def send_welcome_email(subscriber) -> None:
    """Send the welcome email after confirmation, in the subscriber's language: the first list email, so it
    carries the list headers."""
    context = _subscriber_context(subscriber)
    extra = headers.list_headers(context["unsubscribe_url"])
    with translation.override(supported_language(subscriber.language)):
        rendered = render_email("welcome", context)
    build_message(subscriber.email, rendered, extra_headers=extra).send()


def send_link_email(subscriber, purpose: str) -> None:
    """Email one requested link (preferences, export or erase) to the subscriber's own address.

    Reaching the preference centre from an unsubscribe page, and downloading or erasing data, go through
    these emails, so holding someone's unsubscribe or preferences link is not enough.
    """
    names = {tokens.PREFERENCES: "preferences_link", tokens.EXPORT: "data_link", tokens.ERASE: "data_link",
             tokens.CLICKS: "click_history_link"}
    context = {
        "subscriber": subscriber, "purpose": purpose, "link_url": tokens.url_for(subscriber, purpose),
        "is_export": purpose == tokens.EXPORT, "valid_minutes": max(1, tokens.data_link_max_age() // 60),
    }
    with translation.override(supported_language(subscriber.language)):
        rendered = render_email(names[purpose], context)
    build_message(subscriber.email, rendered).send()
