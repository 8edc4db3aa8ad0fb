"""Member-facing views: dashboard, topic preferences, membership requests and accepting invitations."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from portal.core.privacy import second_factor_missing

from . import services
from .forms import AcceptInvitationForm, MembershipRequestForm, TopicPreferencesForm
from .models import Membership

INVITATION_ERRORS = {
    "expired": ("This invitation has expired", "Invitation links work for a limited time. Ask the network's "
                "secretariat to send you a new one."),
    "used": ("This invitation has already been used", "Each invitation link works once. If you set your "
             "password already, sign in; if you forgot it, reset it."),
    "invalid": ("This invitation link is not valid", "The link may have been copied incompletely or changed. "
                "Open it again from the email, or ask the secretariat for a new invitation."),
    "account-exists": ("You already have an account", "An account with this email address exists. Sign in, "
                       "or reset your password if you forgot it."),
}


@login_required
@never_cache
def dashboard(request):
    """The member's home: updates they may read, their organisation and restricted resources."""
    data = services.dashboard_for(request.user)
    form = TopicPreferencesForm(instance=data.membership) if data.membership else None
    return render(request, "members/dashboard.html", {
        "dashboard": data, "preferences_form": form, "second_factor_needed": second_factor_missing(request.user),
    })


@login_required
@require_POST
def save_preferences(request):
    """Save the topics a member wants on their dashboard."""
    membership = Membership.objects.filter(user=request.user).first()
    if membership is None:
        messages.error(request, "Only members of an organisation can choose topics.")
        return redirect("members:dashboard")
    form = TopicPreferencesForm(request.POST, instance=membership)
    if form.is_valid():
        form.save()
        messages.success(request, "Your topics are saved.")
    else:
        messages.error(request, "Your topics could not be saved. Please try again.")
    return redirect("members:dashboard")


def request_membership(request):
    """The public form to ask for membership; staff decide in the admin."""
    form = MembershipRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not form.is_spam():
            form.save()
        return redirect("members:request_thanks")
    return render(request, "members/request_form.html", {"form": form})


def request_thanks(request):
    return render(request, "members/request_thanks.html")


@never_cache
@sensitive_post_parameters("password1", "password2")
def join(request, token: str):
    """Accept an invitation: choose a password, then land on the dashboard signed in."""
    try:
        invitation = services.check_invitation_token(token)
    except services.InvitationError as error:
        return _invitation_error(request, error.reason)
    form = AcceptInvitationForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.accept_invitation(
                token,
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
                password=form.cleaned_data["password1"],
            )
        except services.InvitationError as error:
            return _invitation_error(request, error.reason)
        login(request, user, backend="portal.members.backends.MemberBackend")
        messages.success(request, f"Welcome to the {settings.WAGTAIL_SITE_NAME}.")
        return HttpResponseRedirect(reverse("members:dashboard"))
    return render(request, "members/join.html", {"form": form, "invitation": invitation})


def _invitation_error(request, reason: str):
    title, explanation = INVITATION_ERRORS.get(reason, INVITATION_ERRORS["invalid"])
    status = 410 if reason in {"expired", "used"} else 400
    return render(
        request, "members/invitation_error.html",
        {"title": title, "explanation": explanation, "reason": reason}, status=status,
    )


class PasswordResetView(auth_views.PasswordResetView):
    """Django's password reset, with the emailed link built on ``SITE_URL`` rather than the request's Host
    header (which an attacker chooses: a link to their own host or port would hand them the reset token)."""

    success_url = reverse_lazy("members:password_reset_done")
    email_template_name = "registration/password_reset_email.txt"
    html_email_template_name = "registration/password_reset_email.html"

    def form_valid(self, form):
        site = urlsplit(settings.SITE_URL)
        self.domain_override = site.netloc
        self.extra_email_context = {"site_url": settings.SITE_URL, "site_name": settings.WAGTAIL_SITE_NAME}
        # Django adds the scheme from use_https; the templates use site_url, which carries its own.
        self.use_https = site.scheme == "https"
        return super().form_valid(form)
