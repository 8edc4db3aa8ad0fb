"""Authentication backend: members of an inactive organisation cannot log in, and existing sessions end.

Django calls ``user_can_authenticate`` both when logging in and, through ``get_user``, on every request
that carries a session; so deactivating an organisation turns its members into anonymous visitors on
their very next request, with no session bookkeeping.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ObjectDoesNotExist


class MemberBackend(ModelBackend):
    """ModelBackend that also refuses users whose organisation is inactive."""

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
