"""The signed link an invitation email carries (the task that sends it and the services that check it use it)."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from .models import Invitation

INVITATION_SALT = "portal.members.invitation"


def make_invitation_token(invitation: Invitation) -> str:
    """A signed, timestamped token naming the invitation (its row makes it single-use)."""
    return signing.dumps({"i": invitation.pk, "e": invitation.email}, salt=INVITATION_SALT, compress=True)


def invitation_url(invitation: Invitation) -> str:
    """The absolute link sent in the invitation email."""
    return settings.SITE_URL + reverse("members:join", args=[make_invitation_token(invitation)])
