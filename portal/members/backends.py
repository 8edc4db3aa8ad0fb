"""Authentication backend: members of an inactive organisation cannot log in, and existing sessions end.

Django calls ``user_can_authenticate`` both when logging in and, through ``get_user``, on every request
that carries a session; so deactivating an organisation turns its members into anonymous visitors on
their very next request, with no session bookkeeping.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ObjectDoesNotExist


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
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("membership__organisation").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
