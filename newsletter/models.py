"""Newsletter models.

Sections:

1. Subscribers (built in the subscription work): ``Subscriber`` with its topic subscriptions and frequency,
   ``ConsentRecord`` (proof of who agreed to what, when) and ``SuppressedAddress`` (hashes of erased or
   blocked addresses, kept only to honour an opt-out).
2. Issues and sending (NewsletterIssue, Send, Delivery): added by the sending work below the subscriber section.
"""

from __future__ import annotations

import secrets

from django import forms
from django.conf import settings
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from modelcluster.fields import ParentalManyToManyField
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from newsletter.email_blocks import NewsletterBodyBlock
from newsletter.panels import SendActionPanel
from portal.core.models import Topic
from portal.core.serving import EffectiveRestrictionsMixin

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
        EVERY_ISSUE = "every_issue", _("Every issue")
        MONTHLY_DIGEST = "monthly_digest", _("Monthly digest")

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
    public_list = models.BooleanField(
        default=True,
        help_text="On the public newsletter list. Off for records created only so a member can receive (and "
        "unsubscribe from) members' issues.",
    )
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
    click_history = models.BooleanField(
        default=False,
        help_text="The subscriber agreed (in the preference centre) to a history of the links they click. Off: "
        "their clicks are only counted per link, never per person.",
    )
    # Change cursor for the Mailchimp sync: set on save and, by database triggers (migration 0003), on every
    # queryset update of a synced column and every change of topics.
    updated_at = models.DateTimeField(auto_now=True, db_index=True, editable=False)

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="newsletter_subscriber_email_ci_unique"),
        ]
        indexes = [
            models.Index(fields=["status", "requested_at"], name="newsletter_sub_status_req"),
            # "Unsubscribed since the send started" (the send's progress and report): the few who left, not every
            # delivery joined to its subscriber (540 ms → 9 ms for 80,000 deliveries).
            models.Index(fields=["unsubscribed_at"], name="newsletter_sub_unsubscribed",
                         condition=models.Q(unsubscribed_at__isnull=False)),
        ]

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
        CLICKS_ON = "clicks_on", "Agreed to a history of the links clicked"
        CLICKS_OFF = "clicks_off", "Withdrew the history of the links clicked (history deleted)"

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


class Audience(models.TextChoices):
    """Who an issue is for; each audience reads the site as a particular kind of viewer."""

    PUBLIC = "public", "Public subscribers (by topic)"
    MEMBERS = "members", "All members"
    SECTORS = "sectors", "Members of chosen sectors"
    PUBLIC_AND_MEMBERS = "public_and_members", "Public subscribers and all members"


class NewsletterIndexPage(EffectiveRestrictionsMixin, Page):
    """The newsletter archive: past issues, each visible to the same audience as its email."""

    intro = RichTextField(features=["bold", "italic", "link"], blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["pages.HomePage"]
    subpage_types = ["newsletter.NewsletterIssue"]
    max_count = 1
    template = "newsletter/newsletter_index_page.html"

    class Meta:
        verbose_name = "newsletter archive"

    def get_context(self, request, *args, **kwargs):
        from django.core.paginator import Paginator

        from portal.core.privacy import visible_pages

        context = super().get_context(request, *args, **kwargs)
        issues = visible_pages(NewsletterIssue.objects.child_of(self), request.user).order_by("-first_published_at")
        context["page_obj"] = Paginator(issues, 12).get_page(request.GET.get("page"))
        context["issues"] = context["page_obj"].object_list
        context["filter_query"] = ""
        return context


class NewsletterIssue(EffectiveRestrictionsMixin, Page):
    """One issue of the newsletter: composed from portal content, sent by Celery, archived on the site.

    The audience decides who receives it and, through a view restriction kept in step on every full save,
    who may read its archive page. An issue may only reference pages its whole audience may read.
    """

    show_type_on_cards = True  # cards name the kind of content ("Newsletter issue")

    subject = models.CharField(max_length=200, help_text="The email's subject line.")
    preheader = models.CharField(
        max_length=200, blank=True, help_text="The short preview text inboxes show after the subject."
    )
    intro = RichTextField(features=["bold", "italic", "link"], blank=True)
    body = StreamField(NewsletterBodyBlock(), blank=True)
    audience = models.CharField(max_length=20, choices=Audience.choices, default=Audience.PUBLIC)
    audience_topics = ParentalManyToManyField(
        Topic, blank=True, related_name="+",
        help_text="Public subscribers who chose any of these topics (or chose none: everything). Empty: all.",
    )
    audience_sectors = ParentalManyToManyField(
        "core.Sector", blank=True, related_name="+", help_text="For a sector audience: which sectors' members."
    )
    digest_month = models.DateField(
        null=True, blank=True, editable=False,
        help_text="Set on monthly digests: the first day of the month they cover.",
    )

    content_panels = [
        SendActionPanel(),  # "Preview, test and send" in view, not only in the header's "..." menu
        *Page.content_panels,
        FieldPanel("subject"),
        FieldPanel("preheader"),
        MultiFieldPanel(
            [FieldPanel("audience"), FieldPanel("audience_topics", widget=forms.CheckboxSelectMultiple),
             FieldPanel("audience_sectors", widget=forms.CheckboxSelectMultiple)],
            heading="Audience",
        ),
        FieldPanel("intro"),
        FieldPanel("body"),
    ]
    search_fields = [*Page.search_fields, index.SearchField("subject"), index.SearchField("intro"),
                     index.SearchField("body")]

    parent_page_types = ["newsletter.NewsletterIndexPage"]
    subpage_types: list[str] = []
    template = "newsletter/newsletter_issue.html"
    # Who may read an issue is its audience (applied on publish, newsletter.services.audience): no separate
    # privacy setting that an audience change could silently override.
    private_page_options: list[str] = []

    class Meta:
        verbose_name = "newsletter issue"

    def get_summary(self) -> str:
        """What cards and search results show under the title: the preview text, else the subject."""
        return self.preheader or self.subject

    def publish(self, *args, **kwargs):
        """Publish in one transaction, so the audience's archive restriction (applied by the ``page_published``
        receiver, ``newsletter.services.audience``) exists when the issue becomes live, never after."""
        with transaction.atomic():
            return super().publish(*args, **kwargs)

    # The services read these models, so the models import no service; the app's ready() sets:
    # the admin form, which refuses an audience that cannot work and pages the audience may not read
    # (``newsletter.admin_forms``; checked again when a send starts), and the web archive's context
    # (``newsletter.services.rendering.web_issue_context``).
    web_context = None

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context.update(type(self).web_context(self))
        return context


class Send(models.Model):
    """One dispatch of an issue to an audience. Created once: pressing send twice finds the same row."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        PREPARING = "preparing", "Preparing the recipient list"
        SENDING = "sending", "Sending"
        PAUSED = "paused", "Paused"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    issue = models.ForeignKey(NewsletterIssue, on_delete=models.PROTECT, related_name="sends")
    audience_key = models.CharField(max_length=200, help_text="Canonical description of the audience.")
    audience_label = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PREPARING, db_index=True)
    backend = models.CharField(max_length=40, default="smtp")
    scheduled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    frozen_at = models.DateTimeField(null=True, blank=True, help_text="When the recipient list was frozen.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    paused_reason = models.TextField(blank=True)
    # Failures counted before the latest resume: the error threshold looks only at what happened since.
    failures_before_resume = models.PositiveIntegerField(default=0)
    attempts_before_resume = models.PositiveIntegerField(default=0)
    # The shared part of every message, rendered once per send; only personal links vary per recipient.
    rendered_subject = models.CharField(max_length=250, blank=True)
    rendered_html = models.TextField(blank=True)
    rendered_text = models.TextField(blank=True)
    # The same for each live translation of the issue, by language code: {"fr": {"subject", "html", "text"}}.
    rendered_translations = models.JSONField(default=dict, blank=True)
    # The mail server could not be reached: no batch starts before this time (one backoff for the whole send).
    deferred_until = models.DateTimeField(null=True, blank=True)
    connection_failures = models.PositiveIntegerField(
        default=0, help_text="Connection failures in a row (reset by the next accepted message)."
    )
    provider_reference = models.CharField(max_length=100, blank=True, help_text="e.g. the Mailchimp campaign id.")
    provider_report = models.JSONField(default=dict, blank=True)
    # Campaign backends (Mailchimp): the last step completed, so a retried task resumes after it.
    campaign_step = models.CharField(max_length=20, blank=True)
    campaign_segment_id = models.CharField(max_length=40, blank=True)
    campaign_send_time = models.DateTimeField(null=True, blank=True,
                                              help_text="When the provider sends (scheduled on a quarter hour).")
    provider_report_at = models.DateTimeField(null=True, blank=True, help_text="When the report was last pulled.")
    # Mailchimp: one more campaign per translation with readers, by language code: {"id", "step", "segment"}.
    campaign_languages = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issue", "audience_key"], name="newsletter_send_once")]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.issue.title} → {self.audience_label or self.audience_key}"

    @property
    def campaign_ids(self) -> list[str]:
        """Every Mailchimp campaign of this send: the original's, then one per translation with readers."""
        ids = [self.provider_reference] + [entry.get("id", "") for _, entry in
                                           sorted((self.campaign_languages or {}).items())]
        return [campaign_id for campaign_id in ids if campaign_id]


class Delivery(models.Model):
    """One recipient of one send: the ledger that makes a crashed send resume without losing anyone."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SUPPRESSED = "suppressed", "Suppressed"
        BOUNCED = "bounced", "Bounced"

    send = models.ForeignKey(Send, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.ForeignKey(Subscriber, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    email = models.EmailField(max_length=254)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    not_before = models.DateTimeField(null=True, blank=True, help_text="Retry not before this time (backoff).")
    lease_until = models.DateTimeField(null=True, blank=True, help_text="A worker holds this row until then.")
    claim = models.CharField(max_length=32, blank=True, help_text="The batch that holds this row.")
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # The ledger's own account of duplicates: every copy the mail server accepted is counted here, including one
    # accepted for a lane that had lost its claim, so more than 1 is a second copy found, not hidden.
    copies = models.PositiveSmallIntegerField(default=0, help_text="Copies the mail server accepted.")
    taken_back = models.PositiveSmallIntegerField(
        default=0, help_text="Times the row was taken back from a lane that stopped (its lease expired)."
    )

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [models.UniqueConstraint(fields=["send", "email"], name="newsletter_delivery_once")]
        indexes = [
            models.Index(fields=["send", "status", "id"], name="newsletter_delivery_queue"),
            # Every worker's tick looks for expired leases: only rows being sent, a handful, are in this index.
            models.Index(fields=["lease_until"], name="newsletter_delivery_leased",
                         condition=models.Q(status="sending")),
        ]

    def __str__(self) -> str:
        return f"{self.email}: {self.get_status_display()}"


class InboundEvent(models.Model):
    """One report that came back about the mail we sent: a bounce, a complaint, an unsubscribe by mail or by a
    provider, or a message in the bounce mailbox that was ignored or could not be read.

    ``key`` names the report (the bounce message's id and recipient, the provider's event id), so a report
    read twice is recorded once. The detail never holds the recipient's address (it is replaced by a marker), so
    erasing a subscriber leaves nothing personal here.
    """

    class Kind(models.TextChoices):
        HARD_BOUNCE = "hard_bounce", "Hard bounce"
        SOFT_BOUNCE = "soft_bounce", "Soft bounce"
        COMPLAINT = "complaint", "Complaint (marked as spam)"
        UNSUBSCRIBE = "unsubscribe", "Unsubscribed by mail or at the provider"
        IGNORED = "ignored", "Ignored (auto-reply, delay warning)"
        UNREADABLE = "unreadable", "Unreadable (kept aside)"

    class Source(models.TextChoices):
        SMTP = "smtp", "Refused while sending"
        MAILBOX = "mailbox", "Bounce mailbox"
        WEBHOOK = "webhook", "Provider webhook"
        MAILCHIMP = "mailchimp", "Mailchimp"

    key = models.CharField(max_length=255, unique=True, null=True, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    source = models.CharField(max_length=20, choices=Source.choices)
    subscriber = models.ForeignKey(Subscriber, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    delivery = models.ForeignKey("Delivery", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status_code = models.CharField(max_length=12, blank=True, help_text="Enhanced status code, e.g. 5.1.1.")
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["subscriber", "kind", "created_at"], name="newsletter_inbound_counts")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_source_display()}) at {self.created_at:%Y-%m-%d %H:%M}"


class LinkClicks(models.Model):
    """Clicks on one link of one send, counted through the signed redirect: a number, never a person.

    ``scanner_hits`` counts fetches that were not counted as clicks (HEAD requests, link-scanner user agents,
    fetches within seconds of delivery), so the report can say how many were set aside.
    """

    send = models.ForeignKey(Send, on_delete=models.CASCADE, related_name="link_clicks")
    url = models.TextField()
    url_hash = models.CharField(max_length=64)
    clicks = models.PositiveIntegerField(default=0)
    scanner_hits = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "link clicks"
        constraints = [models.UniqueConstraint(fields=["send", "url_hash"], name="newsletter_linkclicks_once")]

    def __str__(self) -> str:
        return f"{self.url}: {self.clicks}"


class SubscriberClick(models.Model):
    """One click by a subscriber who opted in to a click history (deleted when they withdraw or are erased)."""

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="clicks")
    link = models.ForeignKey(LinkClicks, on_delete=models.CASCADE, related_name="+")
    clicked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["clicked_at", "id"]

    def __str__(self) -> str:
        return f"{self.subscriber_id} → {self.link_id} at {self.clicked_at:%Y-%m-%d %H:%M}"


# =============================================================================================================
# 3. Mailchimp mirror (added by the Mailchimp work)
# =============================================================================================================


class MailchimpMember(models.Model):
    """What Mailchimp knows about one subscriber: the state last pushed and the status Mailchimp reported."""

    subscriber = models.OneToOneField(Subscriber, on_delete=models.CASCADE, related_name="mailchimp")
    email = models.EmailField(max_length=254, help_text="The address as Mailchimp knows it.")
    digest = models.CharField(max_length=32, blank=True, help_text="Fingerprint of the state last pushed.")
    remote_status = models.CharField(max_length=20, blank=True)
    remote_changed_at = models.DateTimeField(null=True, blank=True)
    pushed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = "Mailchimp member"

    def __str__(self) -> str:
        return f"{self.email} ({self.remote_status or 'not pushed'})"


class MailchimpSyncState(models.Model):
    """Cursors and progress of the audience sync (one row per Mailchimp audience)."""

    audience_id = models.CharField(max_length=40, unique=True)
    push_cursor = models.DateTimeField(null=True, blank=True, help_text="Local changes up to here are pushed.")
    pull_cursor = models.CharField(max_length=40, blank=True, help_text="Mailchimp's last_changed already pulled.")
    topic_category_id = models.CharField(max_length=40, blank=True)
    topic_interests = models.JSONField(default=dict, blank=True, help_text="Topic id → Mailchimp interest id.")
    merge_fields_ready = models.BooleanField(default=False)
    phase = models.CharField(max_length=20, blank=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_summary = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "Mailchimp sync state"

    def __str__(self) -> str:
        return f"Mailchimp audience {self.audience_id}"
