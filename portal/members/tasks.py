"""Thin Celery tasks for the members app: they take ids and call services."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from celery import shared_task

from .invitation_links import invitation_url
from .models import Invitation, Membership


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_invitation(invitation_id: int) -> bool:
    """Email an invitation link once; does nothing if it was already sent, used or has expired."""
    invitation = Invitation.objects.select_related("organisation").filter(pk=invitation_id).first()
    if invitation is None or invitation.state != "queued":  # sent already, used or expired
        return False
    context = {
        "invitation": invitation,
        "url": invitation_url(invitation),
        "site_name": settings.WAGTAIL_SITE_NAME,
        "max_age_days": settings.MEMBERS_INVITATION_MAX_AGE_DAYS,
    }
    message = EmailMultiAlternatives(
        subject=f"Your invitation to the {settings.WAGTAIL_SITE_NAME}",
        body=render_to_string("email/members/invitation.txt", context),
        to=[invitation.email],
        reply_to=settings.EMAIL_REPLY_TO or None,
    )
    message.attach_alternative(render_to_string("email/members/invitation.html", context), "text/html")
    message.send()
    # Marked after sending: a crash in between re-sends (harmless) rather than losing the invitation.
    Invitation.objects.filter(pk=invitation.pk, sent_at__isnull=True).update(sent_at=timezone.now())
    return True


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_organisation_contact(membership_id: int) -> bool:
    """Tell the organisation's contact person that someone joined it (so an intruder is noticed)."""
    membership = Membership.objects.select_related("organisation", "user").filter(pk=membership_id).first()
    if membership is None or not membership.organisation.contact_email:
        return False
    if membership.user.email.lower() == membership.organisation.contact_email.lower():
        return False  # the contact person joining needs no note about themselves
    context = {"membership": membership, "site_name": settings.WAGTAIL_SITE_NAME, "site_url": settings.SITE_URL}
    EmailMultiAlternatives(
        subject=f"A new member joined {membership.organisation.name} on the {settings.WAGTAIL_SITE_NAME}",
        body=render_to_string("email/members/member_joined.txt", context),
        to=[membership.organisation.contact_email],
        reply_to=settings.EMAIL_REPLY_TO or None,
    ).send()
    return True


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_second_factor_added(user_id: int) -> bool:
    """Tell the account's owner that an authenticator app was set up for it (so they notice if it was not them)."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None or not user.email:
        return False
    context = {"user": user, "site_name": settings.WAGTAIL_SITE_NAME, "site_url": settings.SITE_URL}
    EmailMultiAlternatives(
        subject=f"An authenticator app was set up for your {settings.WAGTAIL_SITE_NAME} account",
        body=render_to_string("email/members/second_factor_added.txt", context),
        to=[user.email],
        reply_to=settings.EMAIL_REPLY_TO or None,
    ).send()
    return True
