"""Editor panels for newsletter issues."""

from __future__ import annotations

from django.urls import reverse

from wagtail.admin.panels import Panel


class SendActionPanel(Panel):
    """A visible "Preview, test and send" link at the top of an issue's editor (the page header's button sits in
    the "..." menu, where editors did not find it). Before the first save it says where the action will be."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "newsletter/admin/send_action_panel.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            page = self.instance
            context["send_url"] = reverse("newsletter_sending:issue", args=[page.pk]) if page and page.pk else ""
            context["live"] = bool(page and page.pk and page.live)
            return context
