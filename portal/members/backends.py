"""Authentication backend: members of an inactive organisation cannot log in, and existing sessions end.

Django calls ``user_can_authenticate`` both when logging in and, through ``get_user``, on every request
that carries a session; so deactivating an organisation turns its members into anonymous visitors on
their very next request, with no session bookkeeping.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ObjectDoesNotExist

from portal.core.conf import conf
from portal.core.privacy import GROUPS_ATTR

from . import user_cache


class MemberBackend(ModelBackend):
    """ModelBackend that also refuses users whose organisation is inactive, and accepts an email address."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None and username and "@" in username:
            match = get_user_model()._default_manager.filter(email__iexact=username.strip()).order_by("pk")
            if len(found := list(match[:2])) == 1:  # an ambiguous address signs nobody in
                user = super().authenticate(request, username=found[0].get_username(), password=password)
        return user

    def user_can_authenticate(self, user) -> bool:
        if not super().user_can_authenticate(user):
            return False
        try:
            membership = user.membership
        except ObjectDoesNotExist:
            return True  # staff and other accounts without an organisation
        return membership.organisation.active

    def get_user(self, user_id):
        """The session's user, from the shared cache when ``AUTH_USER_CACHE_SECONDS`` allows
        (``portal.members.user_cache``): with their groups and permissions, so serving them asks nothing more."""
        return user_cache.load(user_id, lambda: self._read_user(user_id), may_keep)

    def _read_user(self, user_id):
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("membership__organisation").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        if not self.user_can_authenticate(user):
            return None
        if user_cache.seconds() > 0:
            # Read with the user what the gate, the two-factor middleware and the user bar ask on every request.
            setattr(user, GROUPS_ATTR, tuple(user.groups.values_list("id", "name")))
            ModelBackend.get_all_permissions(self, user)  # fills Django's own per-user permission caches
        return user


def may_keep(user) -> bool:
    """Whether a user may be kept in the cache: not staff (see ``portal.members.user_cache``)."""
    if user.is_staff or user.is_superuser:
        return False
    return "wagtailadmin.access_admin" not in getattr(user, "_perm_cache", {"wagtailadmin.access_admin"})


def lockout_username(request, credentials) -> str:
    """The name django-axes counts failed logins under (``AXES_USERNAME_CALLABLE``): the account's own
    username whatever identifier (username or email) and letter case was typed, so variants share one
    counter; an identifier that names no single account is counted in lower case."""
    typed = str((credentials or {}).get("username") or (request.POST.get("username", "") if request else ""))
    typed = typed.strip()[:254]
    if not typed:
        return ""
    account = _single_account(typed)
    return account.get_username() if account is not None else typed.lower()


def _single_account(typed: str):
    """The one account the identifier names, ignoring case: an address is looked up as an email, then as a
    username (invited members' usernames are addresses); None unless exactly one account matches."""
    username_field = f"{get_user_model().USERNAME_FIELD}__iexact"
    fields = ["email__iexact", username_field] if "@" in typed else [username_field]
    for field in fields:
        found = list(get_user_model()._default_manager.filter(**{field: typed}).order_by("pk")[:2])
        if len(found) == 1:
            return found[0]
    return None


def lockout_ip_address(request) -> str:
    """The client address django-axes counts under (``AXES_CLIENT_IP_CALLABLE``): REMOTE_ADDR, or behind
    ``NEWSLETTER_TRUSTED_PROXY_COUNT`` reverse proxies the X-Forwarded-For entry the last trusted one added.
    Without this, behind a proxy every visitor would share the proxy's address and one lockout would lock all."""
    proxies = int(conf.NEWSLETTER_TRUSTED_PROXY_COUNT)
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies][:64]
    return request.META.get("REMOTE_ADDR", "")
