"""Two-factor authentication for staff, built on django-otp's TOTP devices.

wagtail-2fa 1.8.0 imports ``wagtail.users.widgets``, which Wagtail 8 no longer has, so it cannot be used;
this is the small part of it we need. When ``STAFF_2FA_REQUIRED`` is on, a staff user (anyone who can
reach the Wagtail admin) who has not passed a TOTP check in this session is sent to set up a device (if
they have none) or to enter a code, before any other page: the admin and restricted site pages alike.
"""

from __future__ import annotations

import base64

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
                name = VERIFY_URL_NAME if django_otp.user_has_device(user, confirmed=True) else SETUP_URL_NAME
                return redirect_to_login(request.get_full_path(), login_url=reverse(name))
        return self.get_response(request)

    def _needs_check(self, request) -> bool:
        path = request.path_info
        if path.startswith((settings.STATIC_URL, settings.MEDIA_URL)):
            return False
        exempt = [
            reverse(SETUP_URL_NAME), reverse(VERIFY_URL_NAME), reverse("wagtailadmin_login"),
            reverse("wagtailadmin_logout"), reverse("members:login"), reverse("members:logout"),
        ]
        if path in exempt:
            return False
        return is_staff_user(request.user)


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    allowed = {request.get_host()}
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts=allowed, require_https=request.is_secure()):
        return candidate
    return reverse("wagtailadmin_home")


@never_cache
@sensitive_post_parameters("token")
def setup(request):
    """Add a TOTP device: show its QR code and secret, confirm it with a first code."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), login_url=reverse("wagtailadmin_login"))
    if django_otp.user_has_device(request.user, confirmed=True) and not request.user.is_verified():
        return redirect(f"{reverse(VERIFY_URL_NAME)}?{urlencode({'next': _next_url(request)})}")
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="Authenticator app", confirmed=False)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            django_otp.login(request, device)
            return redirect(_next_url(request))
        form.add_error("token", "That code did not match. Check the time on your phone and try the newest code.")
    qr = segno.make(device.config_url, error="m")
    context = {
        "form": form,
        "qr_svg": qr.svg_inline(scale=4, dark="#000000", light="#ffffff", omitsize=False),
        "secret": base64.b32encode(device.bin_key).decode(),
        "next": _next_url(request),
    }
    return TemplateResponse(request, "members/two_factor_setup.html", context)


@never_cache
@sensitive_post_parameters("token")
def verify(request):
    """Ask for a code from the user's authenticator app."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), login_url=reverse("wagtailadmin_login"))
    if not django_otp.user_has_device(request.user, confirmed=True):
        return redirect(f"{reverse(SETUP_URL_NAME)}?{urlencode({'next': _next_url(request)})}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = django_otp.match_token(request.user, form.cleaned_data["token"])
        if device is not None:
            django_otp.login(request, device)
            return redirect(_next_url(request))
        form.add_error("token", "That code did not match. Try the newest code from your app.")
    return TemplateResponse(request, "members/two_factor_verify.html", {"form": form, "next": _next_url(request)})
