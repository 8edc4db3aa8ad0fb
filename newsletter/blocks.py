"""The newsletter signup block for page bodies (StreamField)."""

from __future__ import annotations

import secrets

from wagtail import blocks


class NewsletterSignupBlock(blocks.StructBlock):
    """A signup form inside a page: heading, a short text, optional topic choice. Posts to /newsletter/subscribe/."""

    heading = blocks.CharBlock(max_length=120, default="Subscribe to the newsletter")
    text = blocks.TextBlock(
        required=False, default="News from the network, new best practice and conference notes, about once a month."
    )
    show_topics = blocks.BooleanBlock(required=False, default=True, help_text="Let people choose topics.")

    class Meta:
        template = "newsletter/blocks/signup.html"
        icon = "mail"
        label = "Newsletter signup"
        description = "A newsletter signup form with the consent text (double opt-in)."
        preview_value = {
            "heading": "Subscribe to the newsletter",
            "text": "News from the network, new best practice and conference notes, about once a month.",
            "show_topics": True,
        }

    def get_context(self, value, parent_context=None):
        from newsletter.forms import SignupForm
        from newsletter.models import Subscriber

        context = super().get_context(value, parent_context=parent_context)
        # Unique ids: a page may hold more than one signup block.
        id_prefix = f"nl-block-{secrets.token_hex(3)}"
        context["id_prefix"] = id_prefix
        context["hide_topics"] = not value.get("show_topics")
        context["form"] = SignupForm(initial={"source": Subscriber.Source.BLOCK}, auto_id=f"{id_prefix}-%s")
        return context
