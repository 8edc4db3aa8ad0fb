"""Newsletter models.

Sections:

1. Subscribers (built in the subscription work): ``Subscriber`` with its topic subscriptions and frequency,
   ``ConsentRecord`` (proof of who agreed to what, when) and ``SuppressedAddress`` (hashes of erased or
   blocked addresses, kept only to honour an opt-out).
2. Issues and sending (NewsletterIssue, Send, Delivery): added by the sending work below the subscriber section.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from portal.core.models import Topic

# =============================================================================================================
# 1. Subscribers
# =============================================================================================================


def new_token_key() -> str:
    """A random per-subscriber key embedded in every signed link; replacing it invalidates all old links."""
    return secrets.token_urlsafe(12)


class SubscriberQuerySet(models.QuerySet):
    def for_email(self, email: str):
        """Rows whose address matches ``email`` case-insensitively (at most one, by the unique constraint)."""
        return self.filter(email__iexact=email.strip())

    def active(self):
        """Subscribers who should receive newsletters (confirmed and not unsubscribed, cleaned or complained)."""
        return self.filter(status=Subscriber.Status.SUBSCRIBED)


class Subscriber(models.Model):
    """One email address on the newsletter list, with its status, preferences and history dates.

    Addresses are unique case-insensitively (a functional unique constraint on ``Lower("email")``).
    Only ``SUBSCRIBED`` addresses receive newsletters; ``PENDING`` ones have not confirmed yet.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending confirmation"
        SUBSCRIBED = "subscribed", "Subscribed"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        CLEANED = "cleaned", "Cleaned (address bounced)"
        COMPLAINED = "complained", "Complained (marked as spam)"

    class Frequency(models.TextChoices):
        EVERY_ISSUE = "every_issue", "Every issue"
        MONTHLY_DIGEST = "monthly_digest", "Monthly digest"

    class Source(models.TextChoices):
        SIGNUP_PAGE = "signup_page", "Signup page"
        FOOTER = "footer", "Footer form"
        BLOCK = "block", "Signup block on a page"
        MEMBER = "member", "Member account (one click)"
        PREFERENCES = "preferences", "Preference centre"
        IMPORT = "import", "List import"
        DEMO = "demo", "Demo content"

    email = models.EmailField(max_length=254)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    language = models.CharField(max_length=10, default="en", help_text="Language code for emails, e.g. en, fr")
    frequency = models.CharField(max_length=20, choices=Frequency.choices, default=Frequency.EVERY_ISSUE)
    topics = models.ManyToManyField(
        Topic, blank=True, related_name="newsletter_subscribers",
        help_text="Topics this person wants to hear about (none: everything).",
    )
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.SIGNUP_PAGE)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="newsletter_subscriptions", help_text="The member account that subscribed, if any.",
    )

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    requested_at = models.DateTimeField(
        default=timezone.now, help_text="When the latest signup request was made (stale pending rows expire from it)."
    )
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    # The status a returning address had before its new (still unconfirmed) signup, restored if it never confirms.
    status_before_signup = models.CharField(max_length=20, choices=Status.choices, blank=True)
    token_key = models.CharField(max_length=32, default=new_token_key, editable=False)

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="newsletter_subscriber_email_ci_unique"),
        ]
        indexes = [models.Index(fields=["status", "requested_at"], name="newsletter_sub_status_req")]

    def __str__(self) -> str:
        return self.email

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.SUBSCRIBED

    def topic_list(self) -> str:
        """Topic names separated by semicolons (for exports; uses prefetched topics when present)."""
        return "; ".join(sorted(topic.name for topic in self.topics.all()))


class ConsentRecord(models.Model):
    """Proof of consent: what text (and version) a person agreed to, when, through which form.

    The IP address is stored only as a keyed hash and the user agent only as a browser family.
    Withdrawals (unsubscribes) are recorded too, so the history tells the whole story.
    """

    class Event(models.TextChoices):
        GIVEN = "given", "Consent given (awaiting confirmation)"
        CONFIRMED = "confirmed", "Consent confirmed"
        WITHDRAWN = "withdrawn", "Consent withdrawn (unsubscribed)"
        IMPORTED = "imported", "Imported with a stated consent basis"

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="consents")
    event = models.CharField(max_length=20, choices=Event.choices)
    consent_text = models.TextField(blank=True)
    consent_version = models.CharField(max_length=40, blank=True)
    form = models.CharField(max_length=40, help_text="Which form or channel recorded this, e.g. footer, import.")
    basis = models.TextField(blank=True, help_text="For imports: how consent was obtained originally.")
    ip_hash = models.CharField(max_length=64, blank=True)
    user_agent_family = models.CharField(max_length=40, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The staff member who recorded this (imports), if not the subscriber.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_event_display()} via {self.form} at {self.created_at:%Y-%m-%d %H:%M}"


class SuppressedAddress(models.Model):
    """A keyed hash of an address that must not be (re-)added silently, e.g. after erasure.

    The address itself is gone; only the hash remains so that list imports can recognise and skip it.
    The person may still sign up again themselves through double opt-in, which lifts the suppression.
    """

    class Reason(models.TextChoices):
        ERASED = "erased", "Data erased at the person's request"
        COMPLAINED = "complained", "Marked as spam"
        BOUNCED = "bounced", "Address bounced permanently"

    email_hash = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=20, choices=Reason.choices, default=Reason.ERASED)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "suppressed address"
        verbose_name_plural = "suppressed addresses"

    def __str__(self) -> str:
        return f"Suppressed address {self.email_hash[:12]}… ({self.get_reason_display()})"


# =============================================================================================================
# 2. Issues and sending (added by the sending work)
# =============================================================================================================
