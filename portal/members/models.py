"""Member organisations, memberships, sector groups, invitations and membership requests.

A member is a Django user with one ``Membership`` linking them to one ``Organisation``. Their Django groups
("Members" plus the group of their organisation's sector) are derived data: ``services.sync_member_groups``
recomputes them whenever a membership or an organisation changes, so view restrictions that name a sector
group follow the organisation's sector and active state without anyone editing users by hand.
"""

from __future__ import annotations

import datetime

from django import forms
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone

from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.search import index

from django_countries.fields import CountryField

from portal.core.models import Sector, Topic

MEMBERS_GROUP_NAME = "Members"

# Sector slug -> group name. The data migration creates these groups and SectorGroup rows.
DEFAULT_SECTOR_GROUPS = {
    "hotline": "Hotlines",
    "ngo": "NGOs",
    "industry": "Industry",
    "law-enforcement": "Law enforcement",
    "government": "Government",
}


class SectorGroup(models.Model):
    """Which Django group the members of a sector belong to.

    Keyed by the sector's slug rather than a foreign key so the mapping can be created by a migration
    before any Sector row exists (sectors are content, created by editors or the demo seed).
    """

    sector_slug = models.SlugField(max_length=100, unique=True)
    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="sector_mapping")

    panels = [FieldPanel("sector_slug"), FieldPanel("group")]

    class Meta:
        ordering = ["sector_slug"]
        verbose_name = "sector group"

    def __str__(self) -> str:
        return f"{self.sector_slug} → {self.group.name}"


class Organisation(index.Indexed, models.Model):
    """A member organisation of the network: a hotline, NGO, company, police force or ministry."""

    name = models.CharField(max_length=200, unique=True)
    sector = models.ForeignKey(Sector, on_delete=models.PROTECT, related_name="organisations")
    country = CountryField()
    website = models.URLField(blank=True)
    member_since = models.DateField(default=datetime.date.today)
    active = models.BooleanField(
        default=True,
        help_text="Members of an inactive organisation lose access to restricted content at once.",
    )
    email_domains = models.CharField(
        "verified email domains", max_length=500, blank=True,
        help_text="Domains (comma-separated, e.g. police.example) checked by staff as this organisation's own. "
                  "Invitations go only to addresses on them unless an administrator overrides.",
    )
    contact_email = models.EmailField(
        "contact person's email", blank=True, help_text="Told by email whenever someone joins the organisation.",
    )

    panels = [
        FieldPanel("name"),
        FieldRowPanel([FieldPanel("sector"), FieldPanel("country")]),
        FieldPanel("website"),
        FieldRowPanel([FieldPanel("email_domains"), FieldPanel("contact_email")]),
        FieldRowPanel([FieldPanel("member_since"), FieldPanel("active")]),
    ]
    search_fields = [index.SearchField("name"), index.AutocompleteField("name"), index.FilterField("active")]

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def verified_domains(self) -> set[str]:
        """The verified email domains, lower-cased, without a leading "@"."""
        return {part.strip().lstrip("@").lower().rstrip(".") for part in self.email_domains.split(",") if part.strip()}


class Membership(models.Model):
    """Links one user to one organisation, with the topics they want on their dashboard."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    topics = models.ManyToManyField(Topic, blank=True, related_name="+", help_text="Topics shown on the dashboard.")
    joined_at = models.DateTimeField(default=timezone.now)

    panels = [FieldPanel("user"), FieldPanel("organisation"), FieldPanel("topics", widget=forms.CheckboxSelectMultiple)]

    class Meta:
        ordering = ["organisation__name", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} ({self.organisation})"

    @property
    def is_active(self) -> bool:
        return self.organisation.active


class MembershipRequest(models.Model):
    """A request from the public form to join the network, decided by staff in the admin."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    STATUS_CHOICES = [(PENDING, "Pending"), (APPROVED, "Approved"), (REJECTED, "Rejected")]

    name = models.CharField(max_length=150)
    email = models.EmailField("work email")
    organisation_name = models.CharField("organisation", max_length=200)
    sector = models.ForeignKey(Sector, on_delete=models.PROTECT, related_name="+")
    country = CountryField()
    website = models.URLField("organisation website", blank=True)
    message = models.TextField("why your organisation wants to join", max_length=2000)
    status = models.CharField(max_length=10, choices=STATUS_CHOICES, default=PENDING, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests",
        help_text="The organisation the person was invited into.",
    )

    panels = [
        MultiFieldPanel(
            [FieldPanel("name"), FieldPanel("email"), FieldPanel("organisation_name"), FieldPanel("sector"),
             FieldPanel("country"), FieldPanel("website"), FieldPanel("message")],
            heading="Request",
        ),
    ]

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "membership request"

    def __str__(self) -> str:
        return f"{self.name} — {self.organisation_name}"


class Invitation(models.Model):
    """One invitation email. The link carries a signed token naming this row; ``used_at`` makes it single-use."""

    email = models.EmailField()
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    request = models.ForeignKey(
        MembershipRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The account created from this invitation.",
    )

    panels = [FieldPanel("email"), FieldPanel("organisation")]

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} → {self.organisation}"

    @property
    def expires_at(self) -> datetime.datetime:
        return self.created_at + datetime.timedelta(days=settings.MEMBERS_INVITATION_MAX_AGE_DAYS)

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at

    @property
    def state(self) -> str:
        if self.used_at:
            return "used"
        if self.is_expired:
            return "expired"
        return "sent" if self.sent_at else "queued"
