"""Admin for the members app: organisations, members, requests (approve/reject), invitations, 2FA pages."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from wagtail import hooks
from wagtail.admin.menu import MenuItem as AdminMenuItem
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.menus import MenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.views import generic
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet

from . import services, two_factor
from .forms import ApproveRequestForm, InviteForm
from .models import Invitation, Membership, MembershipRequest, Organisation, SectorGroup


class OrganisationViewSet(ModelViewSet):
    model = Organisation
    icon = "group"
    menu_label = "Organisations"
    list_display = ["name", "sector", "country", "member_since", "active"]
    list_filter = ["sector", "active"]
    search_fields = ["name"]
    inspect_view_enabled = True
    copy_view_enabled = False


class MembershipViewSet(ModelViewSet):
    model = Membership
    icon = "user"
    menu_label = "Members"
    list_display = ["user", "organisation", "joined_at"]
    list_filter = ["organisation__sector", "organisation__active"]
    search_fields = ["user__username", "user__email", "organisation__name"]
    copy_view_enabled = False


class InvitationCreateView(generic.CreateView):
    """Creating an invitation goes through the service, which queues the email after commit."""

    def get_form_class(self):
        return InviteForm

    def get_panel(self):
        # InviteForm's domain override box exists (and so is shown) for administrators only.
        fields = ["email", "organisation", "override_domain"]
        return ObjectList([FieldPanel(name) for name in fields]).bind_to_model(Invitation)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs.pop("instance", None)
        kwargs.pop("for_user", None)
        return {**kwargs, "user": self.request.user}

    def form_valid(self, form):
        self.form = form
        try:
            return super().form_valid(form)
        except services.InvitationRefused as refused:
            form.add_error("email", str(refused))
            self.produced_error_message = "The invitation could not be created."
            return self.form_invalid(form)

    def save_instance(self):
        data = self.form.cleaned_data
        return services.invite(data["email"], data["organisation"], invited_by=self.request.user,
                               override_domain=data.get("override_domain", False))

    def get_success_message(self, instance):
        return f"Invitation queued for {instance.email}."

    def get_success_buttons(self):
        return []

    def get_edit_url(self):
        return reverse("invitations:inspect", args=[self.object.pk])


class InvitationViewSet(ModelViewSet):
    model = Invitation
    name = "invitations"
    icon = "mail"
    menu_label = "Invitations"
    add_view_class = InvitationCreateView
    form_fields = ["email", "organisation"]
    list_display = ["email", "organisation", "created_at", "state", "invited_by"]
    list_filter = ["organisation"]
    search_fields = ["email"]
    copy_view_enabled = False
    inspect_view_enabled = True

    def get_common_view_kwargs(self, **kwargs):
        # An invitation is sent, not edited: delete it and invite again.
        return super().get_common_view_kwargs(**{"edit_url_name": None, **kwargs})

    def get_urlpatterns(self):
        return [p for p in super().get_urlpatterns() if p.name != "edit"]


class MembershipRequestIndexView(generic.IndexView):
    """The requests listing, with Approve and Reject in each pending row's menu."""

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if instance.status == MembershipRequest.PENDING:
            buttons += [
                MenuItem("Approve", reverse("membership_requests:approve", args=[instance.pk]), icon_name="tick",
                         priority=1),
                MenuItem("Reject", reverse("membership_requests:reject", args=[instance.pk]), icon_name="cross",
                         priority=2),
            ]
        return buttons


class MembershipRequestViewSet(ModelViewSet):
    """Pending requests from the public form, with approve and reject actions."""

    model = MembershipRequest
    name = "membership_requests"
    index_view_class = MembershipRequestIndexView
    icon = "form"
    menu_label = "Membership requests"
    # The first column stays a plain field name: Wagtail attaches the row's action menu to it.
    list_display = ["name", Column("organisation_name", label="Organisation"), "sector",
                    "country", "status", Column("created_at", label="Received")]
    list_filter = ["status", "sector"]
    search_fields = ["name", "email", "organisation_name"]
    inspect_view_enabled = True
    copy_view_enabled = False

    def get_urlpatterns(self):
        return [
            *[p for p in super().get_urlpatterns() if p.name not in {"add", "edit", "copy"}],
            path("<int:pk>/approve/", self.approve_view, name="approve"),
            path("<int:pk>/reject/", self.reject_view, name="reject"),
        ]

    def get_common_view_kwargs(self, **kwargs):
        # Requests come from the public form and are decided, not edited.
        return super().get_common_view_kwargs(**{"edit_url_name": None, "add_url_name": None, **kwargs})

    def _check(self, request):
        if not request.user.has_perm("members.change_membershiprequest"):
            raise PermissionDenied

    def approve_view(self, request, pk):
        """Approve a request: pick (or create) the organisation; the requester is invited by email."""
        self._check(request)
        membership_request = get_object_or_404(MembershipRequest.objects.select_related("sector"), pk=pk)
        form = ApproveRequestForm(request.POST or None, user=request.user)
        if request.method == "POST" and form.is_valid() and self._approve(request, membership_request, form):
            return redirect(self.get_url_name("index"))
        return TemplateResponse(
            request, "members/admin/approve_request.html",
            {"form": form, "membership_request": membership_request, "page_title": "Approve membership request",
             "matches": services.matching_organisations(membership_request),
             "header_icon": "tick", "index_url": reverse(self.get_url_name("index"))},
            status=400 if form.errors else 200,
        )

    def _approve(self, request, membership_request, form) -> bool:
        """Approve with the form's choices and say so in a message; False (the refusal on the form) when the
        approval is refused."""
        data = form.cleaned_data
        try:
            invitation = services.approve_request(
                membership_request, request.user, organisation=data["organisation"],
                create_new=data["create_new"], override_domain=data.get("override_domain", False),
            )
        except services.InvitationRefused as refused:
            form.add_error(None, str(refused))
            return False
        if invitation is None:
            messages.error(request, "This request was already decided.")
        else:
            messages.success(request, f"Approved: an invitation is on its way to {invitation.email}.")
        return True

    def reject_view(self, request, pk):
        """Reject a request after confirmation (no email is sent)."""
        self._check(request)
        membership_request = get_object_or_404(MembershipRequest, pk=pk)
        if request.method == "POST":
            if services.reject_request(membership_request, request.user):
                messages.success(request, f"Rejected the request from {membership_request.organisation_name}.")
            else:
                messages.error(request, "This request was already decided.")
            return redirect(self.get_url_name("index"))
        return TemplateResponse(
            request, "members/admin/reject_request.html",
            {"membership_request": membership_request, "page_title": "Reject membership request",
             "header_icon": "cross", "index_url": reverse(self.get_url_name("index"))},
        )


class SectorGroupViewSet(ModelViewSet):
    model = SectorGroup
    icon = "link"
    menu_label = "Sector groups"
    list_display = ["sector_slug", "group"]
    form_fields = ["sector_slug", "group"]
    copy_view_enabled = False


class MembersGroup(ViewSetGroup):
    menu_label = "Membership"
    menu_icon = "group"
    menu_order = 250
    items = (OrganisationViewSet, MembershipViewSet, MembershipRequestViewSet, InvitationViewSet, SectorGroupViewSet)


@hooks.register("register_admin_viewset")
def register_members_viewsets():
    return MembersGroup()


@hooks.register("register_admin_urls")
def two_factor_urls():
    return [
        path("2fa/setup/", two_factor.setup, name=two_factor.SETUP_URL_NAME),
        path("2fa/verify/", two_factor.verify, name=two_factor.VERIFY_URL_NAME),
        path("2fa/reset/", two_factor.reset_view, name=two_factor.RESET_URL_NAME),
    ]


class AdministratorsOnlyMenuItem(AdminMenuItem):
    def is_shown(self, request):
        return request.user.is_superuser


@hooks.register("register_settings_menu_item")
def two_factor_reset_menu_item():
    return AdministratorsOnlyMenuItem("Two-factor reset", reverse(two_factor.RESET_URL_NAME), icon_name="key",
                                      order=650)


# --- Second factor before restricted content (PRIVACY_SECOND_FACTOR_GROUPS) --------------------------------
# The privacy gate already treats an unverified member of those groups as anonymous (listings, search, API);
# these hooks send them to the second-factor step when they open a restricted page or document, before
# Wagtail's own restriction check would.


@hooks.register("before_serve_page", order=-50)
def second_factor_before_restricted_page(page, request, serve_args, serve_kwargs):
    from portal.core.privacy import Viewer, can_view, second_factor_missing

    if second_factor_missing(request.user) and not can_view(page, Viewer.anonymous()):
        return two_factor.redirect_to_second_factor(request)
    return None


@hooks.register("before_serve_document", order=-50)
def second_factor_before_restricted_document(document, request):
    from portal.core.privacy import Viewer, can_view_document, second_factor_missing

    if second_factor_missing(request.user) and not can_view_document(document, Viewer.anonymous()):
        return two_factor.redirect_to_second_factor(request)
    return None


@hooks.register("register_account_menu_item")
def two_factor_account_item(request):
    return {
        "url": reverse(two_factor.SETUP_URL_NAME),
        "label": "Two-factor authentication",
        "help_text": "Set up an authenticator app for signing in.",
    }


@hooks.register("register_log_actions")
def register_membership_log_actions(actions):
    actions.register_action("members.invitation.create", "Invite member", "Invited a person to join")
    actions.register_action("members.request.approve", "Approve membership request", "Approved membership request")
    actions.register_action(
        "members.invitation.domain_override", "Override invitation domain",
        "Invited an address outside the organisation's verified email domains",
    )
    actions.register_action("members.request.reject", "Reject membership request", "Rejected membership request")
    actions.register_action("members.organisation.activate", "Activate organisation", "Activated the organisation")
    actions.register_action(
        "members.organisation.deactivate", "Deactivate organisation",
        "Deactivated the organisation: its members lost access",
    )
    actions.register_action("members.membership.join", "Member joined", "A member joined the organisation")
    actions.register_action("members.membership.leave", "Member left", "A member left the organisation")
    actions.register_action(
        two_factor.RESET_ACTION, "Reset two-factor authentication",
        "Removed the person's authenticator devices (they set up a new one at their next sign-in)",
    )

