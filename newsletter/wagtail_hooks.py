"""Admin for newsletter subscribers: browse, search, filter, CSV export and import, staff export/erase, dashboard.

Staff cannot create subscribers by hand (that would skip consent): addresses arrive through signup, a member's
one click, or a list import with a stated consent basis. "Delete" is erasure: it keeps a keyed hash of the
address so an import cannot silently bring it back. Exports and erasures are audit-logged with who did it.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.views.generic import FormView

from wagtail import hooks
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.components import Component
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import HeaderButton, MenuItem
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

import django_filters

from newsletter.forms import ImportForm
from newsletter.models import Subscriber
from newsletter.services import audience, privacy, subscriptions
from portal.core.models import Topic
from portal.core.spreadsheets import safe_cell

IMPORT_ACTION = "newsletter.subscriber.import"


class SubscriberPermissionPolicy(ModelPermissionPolicy):
    """Nobody adds subscribers by hand: they must opt in (or be imported with a consent basis)."""

    def user_has_permission(self, user, action):
        if action == "add":
            return False
        return super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)


# Registered before the viewset so that every admin view (and menu item) uses it.
subscriber_permission_policy = SubscriberPermissionPolicy(Subscriber)
register_permission_policy(Subscriber, subscriber_permission_policy, exact_class=True)


class SubscriberFilterSet(WagtailFilterSet):
    """Filter by status, topic, source and signup date range."""

    created_at = django_filters.DateFromToRangeFilter(label="Signed up", widget=DateRangePickerWidget)

    class Meta:
        model = Subscriber
        fields = ["status", "topics", "source"]


class SubscriberIndexView(generic.IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().prefetch_related("topics")

    @cached_property
    def header_buttons(self):
        buttons = super().header_buttons
        if self.permission_policy.user_has_permission(self.request.user, "change"):
            buttons.append(HeaderButton("Import a list", url=reverse("newsletter_subscribers:import"),
                                        icon_name="upload"))
        return buttons

    def get_list_more_buttons(self, instance):
        buttons = [button for button in super().get_list_more_buttons(instance)
                   if getattr(button, "label", "") != "Delete"]
        if self.permission_policy.user_has_permission(self.request.user, "change"):
            buttons.append(MenuItem("Export data (JSON)", url=reverse("newsletter_subscribers:export_data",
                                                                      args=[instance.pk]),
                                    icon_name="download", priority=40))
        if self.permission_policy.user_has_permission(self.request.user, "delete"):
            buttons.append(MenuItem("Erase data", url=reverse("newsletter_subscribers:delete", args=[instance.pk]),
                                    icon_name="bin", priority=50))
        return buttons


class SubscriberEraseView(generic.DeleteView):
    """Delete = erase: the address is replaced by a keyed hash on the suppression list, then the row goes."""

    page_title = "Erase subscriber data"
    success_message = "Subscriber data erased. Only a hash of the address is kept, to honour the opt-out."

    @property
    def confirmation_message(self):
        return ("Erase everything stored about this address (subscription, choices, consent records)? Only a "
                "one-way hash is kept so that list imports can never add it again. This cannot be undone.")

    def get_success_message(self):
        return self.success_message

    def delete_action(self):
        privacy.erase_subscriber(self.object, actor=self.request.user, via="admin")


class SubscriberViewSet(ModelViewSet):
    model = Subscriber
    icon = "mail"
    menu_label = "Subscribers"
    menu_name = "newsletter-subscribers"
    add_to_admin_menu = True
    menu_order = 250
    name = "newsletter_subscribers"
    index_view_class = SubscriberIndexView
    delete_view_class = SubscriberEraseView
    copy_view_enabled = False
    inspect_view_enabled = True
    inspect_view_fields = ["email", "status", "language", "frequency", "topics", "source", "created_at",
                           "requested_at", "confirmation_sent_at", "confirmed_at", "unsubscribed_at"]
    list_display = ["email", "status", "language", "frequency", "source", "created_at", "confirmed_at"]
    filterset_class = SubscriberFilterSet
    search_fields = ["email"]
    search_backend_name = None
    list_per_page = 50
    form_fields = ["language", "frequency", "topics"]
    list_export = ["email", "status", "language", "frequency", "topic_list", "source", "created_at", "confirmed_at",
                   "unsubscribed_at"]
    export_headings = {"topic_list": "Topics"}
    export_filename = "newsletter-subscribers"

    def get_index_view_kwargs(self, **kwargs):
        kwargs = super().get_index_view_kwargs(**kwargs)
        # Every column through the portal's one formula-neutralising rule (an address may start with "=").
        kwargs["custom_field_preprocess"] = {field: {"csv": safe_cell} for field in self.list_export}
        return kwargs

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("import/", SubscriberImportView.as_view(permission_policy=self.permission_policy), name="import"),
            path("export-data/<int:pk>/", export_subscriber_view(self.permission_policy), name="export_data"),
        ]


class SubscriberImportView(WagtailAdminTemplateMixin, FormView):
    """Import an existing list: requires a stated consent basis; never re-adds anyone who left or was erased."""

    template_name = "newsletter/admin/import.html"
    form_class = ImportForm
    page_title = "Import subscribers"
    header_icon = "upload"
    permission_policy = None

    def dispatch(self, request, *args, **kwargs):
        if not self.permission_policy.user_has_permission(request.user, "change"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            rows = subscriptions.parse_import_csv(data["csv_file"])
        except Exception as exc:  # a CSV error or the row limit: show it on the form
            form.add_error("csv_file", str(exc.messages[0] if hasattr(exc, "messages") else exc))
            return self.form_invalid(form)
        report = subscriptions.import_subscribers(
            rows, basis=data["consent_basis"], actor=self.request.user, topics=data["topics"],
            language=data["language"],
        )
        messages.success(self.request, f"{report.created} added, {len(report.skipped)} skipped.")
        return self.render_to_response(self.get_context_data(form=ImportForm(), report=report))


def export_subscriber_view(permission_policy):
    """Staff download of one subscriber's data (JSON), audit-logged with who did it."""

    def view(request, pk):
        from newsletter.views import json_download

        if not permission_policy.user_has_permission(request.user, "change"):
            raise PermissionDenied
        subscriber = get_object_or_404(Subscriber, pk=pk)
        privacy.record_staff_export(subscriber, request.user)
        response = json_download(privacy.export_subscriber_data(subscriber))
        response["Content-Disposition"] = f'attachment; filename="subscriber-{subscriber.pk}.json"'
        return response

    return view


subscriber_viewset = SubscriberViewSet()


@hooks.register("register_admin_viewset")
def register_subscriber_viewset():
    return subscriber_viewset


@hooks.register("register_log_actions")
def register_newsletter_log_actions(actions):
    actions.register_action(privacy.ERASE_ACTION, "Erase subscriber data", "Erased a subscriber's data")
    actions.register_action(privacy.EXPORT_ACTION, "Export subscriber data", "Exported a subscriber's data")
    actions.register_action(
        audience.RESTRICTION_CHANGED, "Change issue audience restriction",
        "Published an audience that changed who may read the issue's archive pages",
    )


class SubscriberSummaryPanel(Component):
    """Dashboard panel: subscribers per status, and confirmed subscribers per topic."""

    name = "newsletter_subscribers"
    template_name = "newsletter/admin/dashboard_panel.html"
    order = 160

    def get_context_data(self, parent_context=None):
        per_status = Subscriber.objects.order_by().values_list("status").annotate(n=Count("id"))
        counts = dict(per_status.values_list("status", "n"))
        statuses = [(label, counts.get(value, 0)) for value, label in Subscriber.Status.choices]
        topics = Topic.objects.annotate(
            subscribed=Count("newsletter_subscribers",
                             filter=Q(newsletter_subscribers__status=Subscriber.Status.SUBSCRIBED))
        ).order_by("name").values_list("name", "subscribed")
        return {"statuses": statuses, "topics": list(topics), "index_url": reverse("newsletter_subscribers:index")}


@hooks.register("construct_homepage_panels")
def add_subscriber_panel(request, panels):
    if subscriber_viewset.permission_policy.user_has_any_permission(request.user, ["change", "view", "delete"]):
        panels.append(SubscriberSummaryPanel())


# Sending issues (preview, test send, send/schedule, progress, reports) lives in its own module.
from newsletter import admin_sending  # noqa: E402, F401
