"""Membership logic: sector groups, invitations, membership requests and the member dashboard.

Views, admin actions, signals and tasks call these functions; they take objects or ids and hold no
request state beyond the acting user they record in the audit log.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from wagtail.log_actions import LogContext, log
from wagtail.models import Page

from portal.core.privacy import visible_documents, visible_pages

from .invitation_links import INVITATION_SALT, invitation_url, make_invitation_token  # noqa: F401
from .models import (
    MEMBERS_GROUP_NAME,
    Invitation,
    Membership,
    MembershipRequest,
    Organisation,
    SectorGroup,
)
from .tasks import send_invitation

logger = logging.getLogger(__name__)



# --- Sector groups -----------------------------------------------------------------------------------------


def managed_group_ids() -> set[int]:
    """Ids of the groups this app owns: "Members" and every sector group."""
    ids = set(SectorGroup.objects.values_list("group_id", flat=True))
    ids.update(Group.objects.filter(name=MEMBERS_GROUP_NAME).values_list("id", flat=True))
    return ids


def groups_for_organisation(organisation: Organisation | None) -> list[Group]:
    """The groups a member of this organisation belongs to (none if it is inactive or missing)."""
    if organisation is None or not organisation.active:
        return []
    names = Group.objects.filter(name=MEMBERS_GROUP_NAME)
    sector_groups = Group.objects.filter(sector_mapping__sector_slug=organisation.sector.slug)
    return list(names) + list(sector_groups)


def sync_member_groups(user, organisation: Organisation | None = None) -> None:
    """Make the user's managed groups match their organisation; other groups (Editors...) are left alone."""
    if organisation is None:
        organisation = Organisation.objects.select_related("sector").filter(memberships__user=user).first()
    wanted = {group.id for group in groups_for_organisation(organisation)}
    managed = managed_group_ids()
    current = set(user.groups.filter(id__in=managed).values_list("id", flat=True))
    user.groups.remove(*(current - wanted))  # Django does nothing (no query, no signal) when given none
    user.groups.add(*(wanted - current))
    # Drop the privacy gate's per-request cache so this request sees the new groups too.
    user.__dict__.pop("_portal_viewer", None)
    user.__dict__.pop("_portal_groups", None)


def sync_organisation_members(organisation: Organisation) -> int:
    """Re-sync the groups of every member of an organisation; returns how many members it has."""
    memberships = list(organisation.memberships.select_related("user"))
    for membership in memberships:
        sync_member_groups(membership.user, organisation)
    return len(memberships)


def set_organisation_active(organisation: Organisation, active: bool, user=None) -> Organisation:
    """Activate or deactivate an organisation; its members' access follows on their next request."""
    if organisation.active != active:
        organisation.active = active
        with LogContext(user=user):
            organisation.save(update_fields=["active"])  # the post_save signal re-syncs groups and logs
    return organisation


# --- Invitations -------------------------------------------------------------------------------------------


class InvitationError(Exception):
    """An invitation link that cannot be used; ``reason`` is one of expired, used, invalid."""

    def __init__(self, reason: str, invitation: Invitation | None = None):
        super().__init__(reason)
        self.reason = reason
        self.invitation = invitation


class InvitationRefused(Exception):
    """An invitation or approval staff may not make; the message says why and what to do instead."""


def email_domain(email: str) -> str:
    """The domain part of an address, lower-cased."""
    return email.rpartition("@")[2].strip().lower().rstrip(".")


def check_invitation_domain(email: str, organisation: Organisation, user, *, override: bool = False) -> bool:
    """Refuse an address outside the organisation's verified domains unless an administrator overrides.

    Returns whether the override was used (the caller records it in the audit log).
    """
    if email_domain(email) in organisation.verified_domains:
        return False
    if not override:
        domains = ", ".join(sorted(organisation.verified_domains)) or "none recorded yet"
        raise InvitationRefused(
            f"{email} is not on {organisation.name}'s verified email domains ({domains}). "
            "Add the domain to the organisation after checking it, or ask an administrator to override."
        )
    if not getattr(user, "is_superuser", False):
        raise InvitationRefused("Only an administrator can invite an address outside the verified domains.")
    return True


def invite(email: str, organisation: Organisation, invited_by=None, request: MembershipRequest | None = None,
           *, override_domain: bool = False, new_organisation: bool = False):
    """Create an invitation and queue its email once the transaction commits.

    The address must be on the organisation's verified domains, unless an administrator overrides (logged)
    or the organisation was just created from this person's own request (they are its first member).
    """
    email = get_user_model().objects.normalize_email(email.strip()).lower()
    overridden = False if new_organisation else check_invitation_domain(
        email, organisation, invited_by, override=override_domain
    )
    invitation = Invitation.objects.create(
        email=email, organisation=organisation, invited_by=invited_by, request=request
    )
    log(organisation, "members.invitation.create", user=invited_by, data={"email": email, "invitation": invitation.pk})
    if overridden:
        log(organisation, "members.invitation.domain_override", user=invited_by,
            data={"email": email, "invitation": invitation.pk,
                  "verified_domains": sorted(organisation.verified_domains)})
    transaction.on_commit(lambda: send_invitation.delay(invitation.pk))
    return invitation


def check_invitation_token(token: str) -> Invitation:
    """Return the usable invitation a token names, or raise InvitationError (expired, used or invalid)."""
    max_age = settings.MEMBERS_INVITATION_MAX_AGE_DAYS * 24 * 3600
    try:
        data = signing.loads(token, salt=INVITATION_SALT, max_age=max_age)
    except signing.SignatureExpired:
        invitation = _invitation_from_unverified(token)
        raise InvitationError("expired", invitation) from None
    except signing.BadSignature:
        raise InvitationError("invalid") from None
    invitation = (
        Invitation.objects.select_related("organisation__sector").filter(pk=data.get("i"), email=data.get("e")).first()
    )
    if invitation is None:
        raise InvitationError("invalid")
    state = invitation.state  # used, else expired, else sent or queued
    if state in {"used", "expired"}:
        raise InvitationError(state, invitation)
    if not invitation.organisation.active:
        raise InvitationError("invalid", invitation)
    return invitation


def _invitation_from_unverified(token: str) -> Invitation | None:
    """For the expired page only: which invitation an expired (but genuinely signed) token named."""
    try:
        data = signing.loads(token, salt=INVITATION_SALT)  # signature valid, age ignored
    except signing.BadSignature:
        return None
    return Invitation.objects.filter(pk=data.get("i")).first()


def email_taken(email: str) -> bool:
    """Whether an account already uses this email address."""
    return get_user_model().objects.filter(email__iexact=email).exists()


@transaction.atomic
def accept_invitation(token: str, *, first_name: str, last_name: str, password: str):
    """Create the member's account from a valid invitation, exactly once; returns the new user.

    The invitation row is locked so two simultaneous submissions cannot both create an account.
    """
    invitation = check_invitation_token(token)
    invitation = Invitation.objects.select_for_update().select_related("organisation__sector").get(pk=invitation.pk)
    if invitation.used_at:
        raise InvitationError("used", invitation)
    if email_taken(invitation.email):
        raise InvitationError("account-exists", invitation)
    user_model = get_user_model()
    user = user_model(
        username=invitation.email, email=invitation.email, first_name=first_name, last_name=last_name
    )
    user.set_password(password)
    user.save()
    Membership.objects.create(user=user, organisation=invitation.organisation)  # signal syncs groups, logs join
    invitation.used_at = timezone.now()
    invitation.user = user
    invitation.save(update_fields=["used_at", "user"])
    return user


# --- Membership requests -----------------------------------------------------------------------------------


def normalise_name(name: str) -> str:
    """A name folded for comparison: case, accents, punctuation and extra spaces ignored."""
    decomposed = unicodedata.normalize("NFKD", name)
    without_accents = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"[\W_]+", " ", without_accents.casefold()).strip()


def website_host(url: str) -> str:
    """The host of a website address without a leading "www.", lower-cased ("" when there is none)."""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


@dataclass
class OrganisationMatch:
    """An existing organisation a membership request may be about, and why we think so."""

    organisation: Organisation
    request_sector_id: int
    reasons: list[str] = field(default_factory=list)
    same_name: bool = False

    @property
    def sector_differs(self) -> bool:
        return self.request_sector_id != self.organisation.sector_id


def matching_organisations(membership_request: MembershipRequest) -> list[OrganisationMatch]:
    """Existing organisations whose name (ignoring case and accents), email domain or website match the request.

    One query: the number of organisations is small (a network of a few hundred members).
    """
    name = normalise_name(membership_request.organisation_name)
    domain = email_domain(membership_request.email)
    host = website_host(membership_request.website)
    matches = []
    for organisation in Organisation.objects.select_related("sector"):
        match = OrganisationMatch(organisation, membership_request.sector_id)
        if normalise_name(organisation.name) == name:
            match.reasons.append("same name")
            match.same_name = True
        if domain and domain in organisation.verified_domains:
            match.reasons.append(f"email domain {domain}")
        if host and host == website_host(organisation.website):
            match.reasons.append(f"website {host}")
        if match.reasons:
            matches.append(match)
    return matches


@transaction.atomic
def approve_request(membership_request: MembershipRequest, user, organisation: Organisation | None = None, *,
                    create_new: bool = False, override_domain: bool = False):
    """Approve a pending request and invite the requester; returns the invitation (None if already decided).

    Without ``organisation`` a new one is created from the request, which is refused (InvitationRefused) when
    an organisation of that name exists, or a similar one exists and ``create_new`` was not ticked. Joining an
    existing organisation must be chosen explicitly, needs the same sector as the request, and an address on
    the organisation's verified domains unless an administrator overrides.
    """
    membership_request = MembershipRequest.objects.select_for_update().get(pk=membership_request.pk)
    if membership_request.status != MembershipRequest.PENDING:
        return None
    new_organisation = organisation is None
    if new_organisation:
        organisation = _organisation_from_request(membership_request, create_new=create_new)
    elif organisation.sector_id != membership_request.sector_id:
        raise InvitationRefused(
            f"{organisation.name} is in the sector {organisation.sector}, but the request says "
            f"{membership_request.sector}: a request can only join an organisation of its own sector."
        )
    membership_request.status = MembershipRequest.APPROVED
    membership_request.decided_at = timezone.now()
    membership_request.decided_by = user
    membership_request.organisation = organisation
    membership_request.save()
    log(membership_request, "members.request.approve", user=user,
        data={"organisation": organisation.name, "organisation_id": organisation.pk, "new": new_organisation})
    return invite(membership_request.email, organisation, invited_by=user, request=membership_request,
                  override_domain=override_domain, new_organisation=new_organisation)


def _organisation_from_request(membership_request: MembershipRequest, *, create_new: bool) -> Organisation:
    """Create the organisation a request names; refused (InvitationRefused) when one of that name exists, or a
    similar one (``matching_organisations``) exists and ``create_new`` was not ticked."""
    matches = matching_organisations(membership_request)
    same_name = [match.organisation for match in matches if match.same_name]
    if same_name:
        raise InvitationRefused(
            f"An organisation called {same_name[0].name} ({same_name[0].sector}) already exists: choose it "
            "explicitly, or reject the request."
        )
    if matches and not create_new:
        raise InvitationRefused(
            "Similar organisations exist (" + ", ".join(match.organisation.name for match in matches) + "): "
            "choose one, or confirm that this is a new organisation."
        )
    return Organisation.objects.create(
        name=membership_request.organisation_name, sector=membership_request.sector,
        country=membership_request.country, website=membership_request.website,
    )


@transaction.atomic
def reject_request(membership_request: MembershipRequest, user) -> bool:
    """Reject a pending request (no email is sent); returns whether anything changed."""
    updated = MembershipRequest.objects.filter(pk=membership_request.pk, status=MembershipRequest.PENDING).update(
        status=MembershipRequest.REJECTED, decided_at=timezone.now(), decided_by=user
    )
    if updated:
        membership_request.refresh_from_db()
        log(membership_request, "members.request.reject", user=user)
    return bool(updated)


# --- Dashboard ---------------------------------------------------------------------------------------------


@dataclass
class Dashboard:
    membership: Membership | None
    updates: list
    restricted_pages: list
    private_documents: list


DASHBOARD_UPDATES = 10
DASHBOARD_RESOURCES = 20


def restriction_label(restriction) -> str:
    """A short label for a lock badge: who may read the restricted page."""
    if restriction.restriction_type == restriction.GROUPS:
        names = sorted(group.name for group in restriction.groups.all())
        return f"{', '.join(names)} only" if names else "Restricted"
    return "Members only"


def _updates_for(articles, membership: Membership | None):
    """The articles for a member: meant for their organisation's sector or for every sector (none chosen), and
    on the topics they chose (all topics when none); all articles for someone without a membership."""
    if membership is None:
        return articles
    topic_ids = [topic.id for topic in membership.topics.all()]
    articles = articles.filter(Q(sectors=membership.organisation.sector) | Q(sectors__isnull=True))
    return articles.filter(topics__in=topic_ids) if topic_ids else articles


def dashboard_for(user) -> Dashboard:
    """What the member dashboard shows: updates they may read for their sector and topics, and resources.

    Every page and document comes through the privacy gate; a fixed number of queries whatever the
    amount of content.
    """
    from wagtail.documents import get_document_model
    from wagtail.models import PageViewRestriction

    from portal.pages.models import ArticlePage

    membership = (
        Membership.objects.select_related("organisation__sector").prefetch_related("topics").filter(user=user).first()
    )
    update_ids = _updates_for(visible_pages(ArticlePage.objects.all(), user), membership).values("id")
    updates = list(
        ArticlePage.objects.filter(id__in=update_ids)
        .order_by("-date", "-id")
        .prefetch_related("topics", "sectors")[:DASHBOARD_UPDATES]
    )

    restrictions = {r.page_id: r for r in PageViewRestriction.objects.prefetch_related("groups")}
    pages = visible_pages(Page.objects.filter(id__in=list(restrictions)), user).order_by("title")
    restricted_pages = [(page, restriction_label(restrictions[page.id])) for page in pages[:DASHBOARD_RESOURCES]]
    documents = list(
        visible_documents(
            get_document_model().objects.filter(collection__name=settings.MEMBERS_DOCUMENTS_COLLECTION), user
        ).order_by("-created_at")[:DASHBOARD_RESOURCES]
    )
    return Dashboard(membership, updates, restricted_pages, documents)
