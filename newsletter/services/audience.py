"""Newsletter audiences: who receives an issue, which viewer that audience is, and its archive restriction.

An audience is read through the privacy gate as one or more viewers: the public as an anonymous visitor,
"all members" as a member with only the Members group, and each chosen sector as a member of that sector.
An issue may include a page only if *every* one of these viewers may read it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from wagtail.models import PageViewRestriction

from newsletter.models import Audience, Subscriber, SuppressedAddress
from newsletter.services.privacy import hash_email
from portal.core.privacy import Viewer
from portal.members.models import MEMBERS_GROUP_NAME, SectorGroup

CHUNK_SIZE = 2000


def members_group() -> Group | None:
    return Group.objects.filter(name=MEMBERS_GROUP_NAME).first()


def sector_groups(issue) -> list[Group]:
    """The Django groups of the sectors an issue is addressed to."""
    slugs = list(issue.audience_sectors.values_list("slug", flat=True))
    mappings = SectorGroup.objects.filter(sector_slug__in=slugs).select_related("group")
    return [mapping.group for mapping in mappings]


def includes_public(issue) -> bool:
    return issue.audience in {Audience.PUBLIC, Audience.PUBLIC_AND_MEMBERS}


def includes_members(issue) -> bool:
    return issue.audience in {Audience.MEMBERS, Audience.SECTORS, Audience.PUBLIC_AND_MEMBERS}


def audience_viewers(issue) -> list[Viewer]:
    """The viewers whose permissions bound what this issue may contain (every one must be able to read it): a
    member of the Members group and of each audience group (the Members group itself, or each sector's)."""
    if includes_public(issue):
        return [Viewer.anonymous()]
    members = members_group()
    base = {members.id} if members else set()
    return [Viewer.members_of(base | {group.id}) for group in _audience_groups(issue)] or [Viewer.members_of(base)]


def audience_key(issue) -> str:
    """A canonical description of the audience, so one issue is sent to one audience once."""
    parts = [issue.audience]
    if includes_public(issue):
        topic_ids = sorted(issue.audience_topics.values_list("id", flat=True))
        parts.append("topics=" + (",".join(map(str, topic_ids)) or "all"))
    if issue.audience == Audience.SECTORS:
        parts.append("sectors=" + ",".join(sorted(issue.audience_sectors.values_list("slug", flat=True))))
    if issue.digest_month:
        parts.append("digest")
    return "|".join(parts)


def audience_label(issue) -> str:
    """The audience in words, for editors."""
    label = Audience(issue.audience).label
    if includes_public(issue):
        topics = list(issue.audience_topics.values_list("name", flat=True))
        label += f" — topics: {', '.join(topics)}" if topics else " — all topics"
    if issue.audience == Audience.SECTORS:
        label += ": " + ", ".join(issue.audience_sectors.values_list("name", flat=True))
    return label


def original_issue(issue):
    """The issue whose audience counts: the default language's version when there is one, else the issue itself.

    A translation's own audience fields are never used: its audience belongs to the original, so publishing a
    translation cannot widen who may read any language version. Sends also belong to the original.
    """
    from django.conf import settings

    locale = getattr(issue, "locale", None)
    if locale is None or locale.language_code == settings.LANGUAGE_CODE or issue.pk is None:
        return issue
    original = issue.get_translations().filter(locale__language_code=settings.LANGUAGE_CODE).first()
    return original.specific if original is not None else issue


RESTRICTION_CHANGED = "newsletter.audience.restriction_changed"


def apply_audience_restriction(issue, user=None) -> str | None:
    """Make the archive pages of an issue (every language version) readable by exactly the original's audience.

    Called when any language version is published. The restriction lives on the original; the privacy gate's
    effective-restriction rule applies it to every translation. Removing or widening it happens only here,
    when an editor publishes a wider audience, and is written to the audit log with who and when.
    Returns a description of what changed, or None.
    """
    from django.db import transaction

    from wagtail.log_actions import log

    original = original_issue(issue)
    with transaction.atomic():
        existing = _restriction_of(original)
        before = _describe(existing)
        restriction_type, groups = _wanted_restriction(original)
        if restriction_type is None:
            _remove_restriction(original, existing)
        else:
            _set_restriction(original, existing, restriction_type, groups)
        after = _describe(_restriction_of(original))
        if before == after:
            return None
        change = f"{before} → {after}"
        log(instance=original, action=RESTRICTION_CHANGED, user=user,
            data={"before": before, "after": after, "published_version_id": issue.pk})
    return change


def _restriction_of(page) -> PageViewRestriction | None:
    return PageViewRestriction.objects.filter(page=page).prefetch_related("groups").first()


def _wanted_restriction(original) -> tuple[str | None, list[Group]]:
    """The restriction type (None: public) and groups the original's audience calls for."""
    if includes_public(original):
        return None, []
    groups = _audience_groups(original)
    return (PageViewRestriction.GROUPS if groups else PageViewRestriction.LOGIN), groups  # never public


def _audience_groups(issue) -> list[Group]:
    """The groups of a members' audience: the Members group, or the chosen sectors' groups (those that exist)."""
    groups = [members_group()] if issue.audience == Audience.MEMBERS else sector_groups(issue)
    return [group for group in groups if group is not None]


def _remove_restriction(page, existing) -> None:
    if existing is not None:
        PageViewRestriction.objects.filter(page=page).delete()


def _set_restriction(page, existing, restriction_type: str, groups: list[Group]) -> None:
    """The page's one restriction, of this type and for these groups (any other restriction of it removed)."""
    restriction = existing if existing is not None else PageViewRestriction(page=page)
    restriction.restriction_type = restriction_type
    restriction.password = ""
    restriction.save()
    restriction.groups.set(groups)
    PageViewRestriction.objects.filter(page=page).exclude(pk=restriction.pk).delete()


def _describe(restriction) -> str:
    if restriction is None:
        return "public"
    if restriction.restriction_type == PageViewRestriction.GROUPS:
        return "groups: " + ", ".join(sorted(group.name for group in restriction.groups.all()))
    return restriction.restriction_type


def issue_published(sender, instance, revision=None, **kwargs) -> None:
    """``page_published`` receiver for newsletter issues: apply the original's audience."""
    apply_audience_restriction(instance, user=getattr(revision, "user", None))


@dataclass(frozen=True)
class Recipient:
    """Someone an issue will be delivered to (``subscriber_id`` None only for suppressed members)."""

    email: str
    subscriber_id: int | None
    suppressed: bool = False
    reason: str = ""


def public_subscribers(issue):
    """Subscribers of the public list who should get this issue (by status, frequency and topic)."""
    frequency = Subscriber.Frequency.MONTHLY_DIGEST if issue.digest_month else Subscriber.Frequency.EVERY_ISSUE
    queryset = Subscriber.objects.filter(status=Subscriber.Status.SUBSCRIBED, public_list=True, frequency=frequency)
    topic_ids = list(issue.audience_topics.values_list("id", flat=True))
    if topic_ids:
        # Chose one of the issue's topics, or chose no topic at all (meaning "everything").
        queryset = queryset.filter(Q(topics__in=topic_ids) | Q(topics__isnull=True)).distinct()
    return queryset


def member_users(issue):
    """Active member accounts in the issue's audience."""
    members = members_group()
    if members is None:
        return get_user_model().objects.none()
    users = get_user_model().objects.filter(is_active=True, groups=members).exclude(email="")
    if issue.audience == Audience.SECTORS:
        users = users.filter(groups__in=sector_groups(issue))
    return users.distinct()


def iter_recipients(issue) -> Iterator[list[Recipient]]:
    """The issue's recipients in chunks (memory stays flat for 100k+), public subscribers first.

    Members without a newsletter record get one (off the public list) so their emails carry working
    unsubscribe links; members who unsubscribed, bounced, complained or were erased come back suppressed.
    """
    if includes_public(issue):
        yield from _public_recipients(issue)
    if includes_members(issue):
        yield from _member_recipient_chunks(issue)


def _chunks(rows) -> Iterator[list]:
    """The rows in lists of ``CHUNK_SIZE`` (the last one shorter), read lazily."""
    rows = iter(rows)
    return iter(lambda: list(itertools.islice(rows, CHUNK_SIZE)), [])


def _public_recipients(issue) -> Iterator[list[Recipient]]:
    rows = public_subscribers(issue).order_by("id").values_list("id", "email")
    for chunk in _chunks(rows.iterator(chunk_size=CHUNK_SIZE)):
        yield [Recipient(email.strip().lower(), subscriber_id) for subscriber_id, email in chunk]


def _member_recipient_chunks(issue) -> Iterator[list[Recipient]]:
    users = member_users(issue).order_by("id").values_list("id", "email")
    for chunk in _chunks(users.iterator(chunk_size=CHUNK_SIZE)):
        yield _member_recipients([(user_id, email.strip().lower()) for user_id, email in chunk])


BLOCKED = {Subscriber.Status.UNSUBSCRIBED, Subscriber.Status.CLEANED, Subscriber.Status.COMPLAINED}


def _member_recipients(users: list[tuple[int, str]]) -> list[Recipient]:
    """Map member accounts to newsletter records in a constant number of queries."""
    emails = [email for _user_id, email in users]
    suppressed = _suppressed_among(emails)
    existing = _subscribers_by_email(emails)
    known = existing.keys() | suppressed
    existing.update(_create_member_subscribers([(user_id, email) for user_id, email in users if email not in known]))
    return [_member_recipient(email, suppressed, existing) for email in emails]


def _suppressed_among(emails: list[str]) -> set[str]:
    """The addresses among these that were erased or blocked (by their hash)."""
    hashes = {hash_email(email): email for email in emails}
    return {hashes[h] for h in SuppressedAddress.objects.filter(email_hash__in=hashes).values_list("email_hash",
                                                                                                   flat=True)}


def _create_member_subscribers(missing: list[tuple[int, str]]) -> dict[str, tuple[int, str]]:
    """Newsletter records (off the public list) for members who have none; returns them by address."""
    now = timezone.now()
    Subscriber.objects.bulk_create(
        [
            Subscriber(email=email, user_id=user_id, status=Subscriber.Status.SUBSCRIBED, public_list=False,
                       source=Subscriber.Source.MEMBER, confirmed_at=now)
            for user_id, email in missing
        ],
        ignore_conflicts=True,
    )
    return _subscribers_by_email([email for _user_id, email in missing])


def _member_recipient(email: str, suppressed: set[str], existing: dict[str, tuple[int, str]]) -> Recipient:
    if email in suppressed:
        return Recipient(email, None, suppressed=True, reason="address erased or blocked")
    subscriber_id, status = existing.get(email, (None, None))
    if status in BLOCKED:
        return Recipient(email, subscriber_id, suppressed=True, reason=f"subscriber {status}")
    return Recipient(email, subscriber_id)


def _subscribers_by_email(emails: list[str]) -> dict[str, tuple[int, str]]:
    """Newsletter records by lowercased address (uses the case-insensitive unique index)."""
    rows = (
        Subscriber.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=emails)
        .values_list("email_lower", "id", "status")
    )
    return {email: (pk, status) for email, pk, status in rows}


def audience_size(issue) -> int:
    """How many people the issue would reach now (before suppression), for the confirmation step."""
    public = public_subscribers(issue).count() if includes_public(issue) else 0
    members = member_users(issue).count() if includes_members(issue) else 0
    return public + members
