"""Two-factor authentication for staff and for members of chosen groups, built on django-otp's TOTP devices.

wagtail-2fa 1.8.0 imports ``wagtail.users.widgets``, which Wagtail 8 no longer has, so it cannot be used;
this is the small part of it we need. When ``STAFF_2FA_REQUIRED`` is on, a staff user (anyone who can
reach the Wagtail admin) who has not passed a TOTP check in this session is sent to set up a device (if
they have none) or to enter a code, before any other page: the admin and restricted site pages alike.

Members of the groups in ``PRIVACY_SECOND_FACTOR_GROUPS`` (default: the Law enforcement sector) are treated
as anonymous by the privacy gate for restricted content until they pass a TOTP check; opening a restricted
page or document sends them to the same setup or verify step on the members' site. Administrators can
remove a person's devices (a lost phone) on the admin's "Two-factor reset" screen, which is audit-logged.
"""

from __future__ import annotations

import base64
import functools

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

import django_otp
import segno
from django_otp.plugins.otp_totp.models import TOTPDevice

from .forms import TokenForm

SETUP_URL_NAME = "members_2fa_setup"
VERIFY_URL_NAME = "members_2fa_verify"
# The same two steps on the members' site (the admin's URLs are open to staff only).
SITE_SETUP_URL_NAME = "members:two_factor_setup"
SITE_VERIFY_URL_NAME = "members:two_factor_verify"
RESET_URL_NAME = "members_2fa_reset"
RESET_ACTION = "members.two_factor.reset"


def is_staff_user(user) -> bool:
    """Whether this user can use the admin, and so must pass two-factor checks when they are required."""
    if not user.is_authenticated:
        return False
    return user.is_staff or user.is_superuser or user.has_perm("wagtailadmin.access_admin")


class StaffTwoFactorMiddleware:
    """Send unverified staff to the 2FA setup or verify page (after django-otp's OTPMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.STAFF_2FA_REQUIRED and self._needs_check(request):
            user = request.user
            if not user.is_verified():
                name = _second_factor_step(user, verify=VERIFY_URL_NAME, setup=SETUP_URL_NAME)
                return redirect_to_login(request.get_full_path(), login_url=reverse(name))
        return self.get_response(request)

    def _needs_check(self, request) -> bool:
        path = request.path_info
        if path.startswith((settings.STATIC_URL, settings.MEDIA_URL)):
            return False
        exempt = [
            reverse(SETUP_URL_NAME), reverse(VERIFY_URL_NAME), reverse(SITE_SETUP_URL_NAME),
            reverse(SITE_VERIFY_URL_NAME), reverse("wagtailadmin_login"),
            reverse("wagtailadmin_logout"), reverse("members:login"), reverse("members:logout"),
        ]
        if path in exempt:
            return False
        return is_staff_user(request.user)


def redirect_to_second_factor(request):
    """Send a member who must pass a second factor to the members' site setup or verify step, and back."""
    name = _second_factor_step(request.user, verify=SITE_VERIFY_URL_NAME, setup=SITE_SETUP_URL_NAME)
    response = redirect(f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")
    response["Cache-Control"] = "private, no-store"
    return response


def _second_factor_step(user, *, verify: str, setup: str) -> str:
    """The step a person owes: ``verify`` (URL name) with a confirmed device, else ``setup`` to add one."""
    return verify if django_otp.user_has_device(user, confirmed=True) else setup


def _next_url(request, default: str = "wagtailadmin_home") -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    allowed = {request.get_host()}
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts=allowed, require_https=request.is_secure()):
        return candidate
    return reverse(default)


def _names(member_site: bool) -> dict:
    """URL and template names for the admin (staff) or the members' site variant of the two steps."""
    if member_site:
        return {"setup": SITE_SETUP_URL_NAME, "verify": SITE_VERIFY_URL_NAME, "login": "members:login",
                "home": "members:dashboard", "template": "members/two_factor_{}_site.html"}
    return {"setup": SETUP_URL_NAME, "verify": VERIFY_URL_NAME, "login": "wagtailadmin_login",
            "home": "wagtailadmin_home", "template": "members/two_factor_{}.html"}


def _signed_in_only(view):
    """The view for signed-in people; anyone else goes to the sign-in page of the view's site (admin or
    members'), and comes back after."""

    @functools.wraps(view)
    def signed_in_view(request, member_site: bool = False):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), login_url=reverse(_names(member_site)["login"]))
        return view(request, member_site)

    return signed_in_view


@never_cache
@sensitive_post_parameters("token")
@_signed_in_only
def setup(request, member_site: bool = False):
    """Add a TOTP device: show its QR code and secret, confirm it with a first code."""
    names = _names(member_site)
    next_url = _next_url(request, names["home"])
    if django_otp.user_has_device(request.user, confirmed=True) and not request.user.is_verified():
        return redirect(f"{reverse(names['verify'])}?{urlencode({'next': next_url})}")
    device = _device_being_set_up(request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            django_otp.login(request, device)
            _tell_owner_about_new_device(request.user)
            return redirect(next_url)
        form.add_error("token", "That code did not match. Check the time on your phone and try the newest code.")
    qr = segno.make(device.config_url, error="m")
    context = {
        "form": form,
        "qr_svg": qr.svg_inline(scale=4, dark="#000000", light="#ffffff", omitsize=False),
        "secret": base64.b32encode(device.bin_key).decode(),
        "next": next_url,
    }
    return TemplateResponse(request, names["template"].format("setup"), context)


@never_cache
@sensitive_post_parameters("token")
@_signed_in_only
def verify(request, member_site: bool = False):
    """Ask for a code from the user's authenticator app."""
    names = _names(member_site)
    next_url = _next_url(request, names["home"])
    if not django_otp.user_has_device(request.user, confirmed=True):
        return redirect(f"{reverse(names['setup'])}?{urlencode({'next': next_url})}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = django_otp.match_token(request.user, form.cleaned_data["token"])
        if device is not None:
            django_otp.login(request, device)
            return redirect(next_url)
        form.add_error("token", "That code did not match. Try the newest code from your app.")
    return TemplateResponse(request, names["template"].format("verify"), {"form": form, "next": next_url})


def _device_being_set_up(user) -> TOTPDevice:
    """The user's unconfirmed device (the QR code shown stays the same until it is confirmed), else a new one."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def _tell_owner_about_new_device(user) -> None:
    """Email the account's own address that an authenticator was added: whoever knew only the password of an
    account that had none could otherwise enrol their own device unnoticed."""
    from django.db import transaction

    from .tasks import notify_second_factor_added

    user_id = user.pk
    transaction.on_commit(lambda: notify_second_factor_added.delay(user_id))


# --- Recovery: an administrator removes a person's devices -------------------------------------------------


def reset_devices(user, *, actor) -> int:
    """Delete every second-factor device of ``user`` (they set up a new one at their next sign-in);
    audit-logged with who did it. Returns how many devices were removed."""
    from wagtail.log_actions import log

    devices = list(django_otp.devices_for_user(user, confirmed=None))
    for device in devices:
        device.delete()
    log(user, RESET_ACTION, user=actor, title=user.get_username(), data={"devices": len(devices)})
    return len(devices)


def _chosen_person(user_model, raw_id: str):
    """The account the form's list names by id; None for anything else (not a number, or one no account has,
    or too long for a database id)."""
    if not raw_id.isdigit() or len(raw_id) >= 18:
        return None
    return user_model.objects.filter(pk=int(raw_id)).first()


@never_cache
def reset_view(request):
    """Admin screen: find a person by username or email and remove their devices (administrators only)."""
    from django.contrib import messages
    from django.contrib.auth import get_user_model
    from django.core.exceptions import PermissionDenied
    from django.db.models import Q

    if not request.user.is_superuser:
        raise PermissionDenied
    user_model = get_user_model()
    if request.method == "POST":
        target = _chosen_person(user_model, request.POST.get("user", ""))
        if target is None:
            messages.error(request, "Choose a person from the list.")
        else:
            removed = reset_devices(target, actor=request.user)
            messages.success(request, f"Removed {removed} device(s) of {target.get_username()}: they set up a new "
                                      "authenticator app at their next sign-in.")
        return redirect(reverse(RESET_URL_NAME) + "?" + urlencode({"q": request.POST.get("q", "")[:100]}))
    query = request.GET.get("q", "").strip()[:100].replace("\x00", "")
    with_devices = TOTPDevice.objects.values("user_id")
    people = user_model.objects.filter(pk__in=with_devices)
    if query:
        people = people.filter(Q(username__icontains=query) | Q(email__icontains=query))
    return TemplateResponse(request, "members/admin/two_factor_reset.html", {
        "people": people.order_by("username")[:50], "query": query, "page_title": "Two-factor reset",
        "header_icon": "key",
    })
