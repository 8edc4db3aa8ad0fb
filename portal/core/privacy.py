"""The privacy gate: the one place that decides which pages a viewer may see.

Every channel (page listings, home, search, feeds, sitemap, API, related-page blocks, newsletters) asks
this module instead of checking view restrictions itself. A *viewer* is anonymous, a logged-in user with
groups, or an audience of newsletter recipients described by the groups they all share.

Wagtail stores restrictions as ``PageViewRestriction`` rows on the page at the top of a restricted
subtree; a page is visible only if the viewer passes every restriction on its ancestors and itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from wagtail.models import CollectionViewRestriction, Page, PageViewRestriction

from portal.core import memo

_CACHE_ATTR = "_portal_viewer"


@dataclass(frozen=True)
class Viewer:
    """Who is looking: enough to evaluate a page's view restrictions without a request."""

    authenticated: bool = False
    group_ids: frozenset[int] = field(default_factory=frozenset)
    superuser: bool = False

    @classmethod
    def anonymous(cls) -> Viewer:
        """A visitor who is not logged in (and the public newsletter audience)."""
        return cls()

    @classmethod
    def members_of(cls, group_ids: Iterable[int]) -> Viewer:
        """A logged-in member belonging to exactly these groups (a newsletter audience)."""
        return cls(authenticated=True, group_ids=frozenset(group_ids))

    @classmethod
    def for_user(cls, user) -> Viewer:
        """The viewer for a Django user (anonymous, inactive and missing users see public pages only)."""
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return cls.anonymous()
        cached = getattr(user, _CACHE_ATTR, None)
        if cached is None:
            groups = list(user.groups.values_list("id", "name"))
            if second_factor_missing(user, [name for _id, name in groups]):
                cached = cls.anonymous()  # no restricted content before the second factor (see below)
            else:
                cached = cls(
                    authenticated=True,
                    group_ids=frozenset(group_id for group_id, _name in groups),
                    superuser=user.is_superuser,
                )
            setattr(user, _CACHE_ATTR, cached)
        return cached

    def passes(self, restriction, restriction_group_ids: Iterable[int]) -> bool:
        """Whether this viewer passes one view restriction (a ``PageViewRestriction``, a
        ``CollectionViewRestriction`` or a ``RestrictionRule``).

        Shared-password restrictions are never passed here: they are disabled on this portal, and any
        left over from an import stay closed to every channel except the page view itself.
        """
        if self.superuser:
            return True
        if restriction.restriction_type == PageViewRestriction.LOGIN:
            return self.authenticated
        if restriction.restriction_type == PageViewRestriction.GROUPS:
            return self.authenticated and bool(self.group_ids & set(restriction_group_ids))
        return False


# --- Second factor: members of chosen groups read restricted content only after a TOTP check --------------
# (issue 16, Build 4). Kept apart from the rest of the gate: Viewer.for_user asks this one function.


def second_factor_missing(user, group_names: Iterable[str] | None = None) -> bool:
    """Whether this user belongs to a group of ``PRIVACY_SECOND_FACTOR_GROUPS`` but has not passed a
    second factor (django-otp) in this session. Such a user is an anonymous viewer for restricted content.

    ``user.is_verified`` is set on request users by django-otp's middleware; a user object without it
    (not from a request) counts as unverified.
    """
    from django.conf import settings

    required = set(getattr(settings, "PRIVACY_SECOND_FACTOR_GROUPS", ()))
    if not required or user is None or not getattr(user, "is_authenticated", False):
        return False
    if group_names is None:
        group_names = user.groups.values_list("name", flat=True)
    if not required.intersection(group_names):
        return False
    is_verified = getattr(user, "is_verified", None)
    return not (callable(is_verified) and is_verified())


def as_viewer(user_or_viewer) -> Viewer:
    """Accept a user, a Viewer or None and return a Viewer."""
    if isinstance(user_or_viewer, Viewer):
        return user_or_viewer
    return Viewer.for_user(user_or_viewer)


def _failed_restrictions(restrictions, viewer) -> list:
    """The view restrictions (page or collection) this viewer does not pass."""
    viewer = as_viewer(viewer)
    return [
        restriction
        for restriction in restrictions.prefetch_related("groups")
        if not viewer.passes(restriction, [group.id for group in restriction.groups.all()])
    ]


@dataclass(frozen=True)
class RestrictionRule:
    """One page view restriction as the gate needs it: where, which kind, which groups."""

    path: str
    restriction_type: str
    group_ids: frozenset[int]


def page_restrictions() -> tuple[RestrictionRule, ...]:
    """Every page view restriction (one query, two when some are for groups), memoised per request and per
    content generation (``portal.core.memo``)."""
    return memo.remember(("privacy:page-restrictions",), _read_page_restrictions)


def _read_page_restrictions() -> tuple[RestrictionRule, ...]:
    rows = list(PageViewRestriction.objects.values_list("id", "page__path", "restriction_type"))
    groups: dict[int, set[int]] = {}
    if any(kind == PageViewRestriction.GROUPS for _id, _path, kind in rows):  # the second query only if needed
        links = PageViewRestriction.groups.through.objects.values_list("pageviewrestriction_id", "group_id")
        for restriction_id, group_id in links:
            groups.setdefault(restriction_id, set()).add(group_id)
    return tuple(
        RestrictionRule(path=path, restriction_type=kind, group_ids=frozenset(groups.get(restriction_id, ())))
        for restriction_id, path, kind in rows
    )


def closed_paths(viewer) -> list[str]:
    """Tree paths of the restricted subtrees this viewer may not enter (one query, two with groups, and
    one more when some are closed; none when this request or, under the same content generation, this
    process already asked: ``portal.core.memo``).

    Every language version counts: a page is closed if it, or any language version of it or of one of
    its ancestors, is in a restricted subtree the viewer fails. So the paths also cover the translations
    of every page inside a closed subtree (normally the translated section itself, which holds them all).
    """
    viewer = as_viewer(viewer)
    return list(memo.remember(("privacy:closed-paths", viewer), lambda: _closed_paths(viewer)))


def _closed_paths(viewer: Viewer) -> tuple[str, ...]:
    paths = [rule.path for rule in page_restrictions() if not viewer.passes(rule, rule.group_ids)]
    if not paths:
        return ()
    return tuple(paths + translated_paths(paths))


def translated_paths(paths: list[str]) -> list[str]:
    """Paths of the other language versions of every page inside these subtrees, outside them (one query)."""
    inside = _under(paths)
    keys = Page.objects.filter(inside).values("translation_key")
    candidates = Page.objects.filter(translation_key__in=keys).exclude(inside).order_by("path")
    kept: list[str] = []
    for path in candidates.values_list("path", flat=True):
        if not any(path.startswith(prefix) for prefix in kept):  # a translated section covers its children
            kept.append(path)
    return kept


def _under(paths: Iterable[str]) -> Q:
    condition = Q()
    for path in paths:
        condition |= Q(path__startswith=path)
    return condition


def visible_pages(queryset: QuerySet, viewer) -> QuerySet:
    """Narrow a page queryset to the live pages this viewer may read."""
    queryset = queryset.live()
    paths = closed_paths(viewer)
    if not paths:
        return queryset
    condition = Q()
    for path in paths:
        condition |= Q(path__startswith=path)
    return queryset.exclude(condition)


def can_view(page: Page, viewer) -> bool:
    """Whether this viewer may read this page (it must be live and outside closed subtrees)."""
    if not page.live:
        return False
    return not any(page.path.startswith(path) for path in closed_paths(viewer))


def all_restricted_paths() -> list[str]:
    """Paths of every restricted subtree, with the other language versions of the pages inside them
    (memoised like ``closed_paths``)."""
    return list(memo.remember(("privacy:restricted-paths",), _all_restricted_paths))


def _all_restricted_paths() -> tuple[str, ...]:
    paths = [rule.path for rule in page_restrictions()]
    if not paths:
        return ()
    return tuple(paths + translated_paths(paths))


# Beyond this many alias pages, serving asks the database about every page (the prefix checks would cost more).
MAX_ALIAS_PATHS = 200


def may_be_restricted(page: Page) -> bool:
    """Whether any view restriction could apply to this page, answered from the memoised restrictions.

    False only when neither the page nor any ancestor is inside a restricted subtree (in any language) nor an
    alias (whose source's restrictions apply): then serving it can skip the per-page restriction queries
    (``BasePage.get_view_restrictions``, ``i18n.restriction_sources``). True means "ask the database".
    """
    paths = _restriction_reach()
    if paths is None:
        return True
    return any(page.path.startswith(path) for path in paths)


def _restriction_reach() -> tuple[str, ...] | None:
    return memo.remember(("privacy:restriction-reach",), _read_restriction_reach)


def _read_restriction_reach() -> tuple[str, ...] | None:
    aliases = list(Page.objects.filter(alias_of__isnull=False).values_list("path", flat=True)[: MAX_ALIAS_PATHS + 1])
    if len(aliases) > MAX_ALIAS_PATHS:
        return None
    return tuple(all_restricted_paths()) + tuple(aliases)


def is_restricted(page: Page, restricted_paths: Iterable[str] | None = None) -> bool:
    """Whether a page sits in any restricted subtree (used to show a lock badge to those who may see it)."""
    if restricted_paths is None:
        restricted_paths = all_restricted_paths()
    return any(page.path.startswith(path) for path in restricted_paths)


def closed_collection_paths(viewer) -> list[str]:
    """Tree paths of the restricted collections this viewer may not open (documents and images)."""
    restrictions = CollectionViewRestriction.objects.select_related("collection")
    return [restriction.collection.path for restriction in _failed_restrictions(restrictions, viewer)]


def visible_documents(queryset: QuerySet, viewer) -> QuerySet:
    """Narrow a document queryset to those outside collections this viewer may not open.

    Works for any model kept in collections (images too). A collection restriction covers the collection
    and every collection below it, as a page restriction covers its subtree; password restrictions stay
    closed here, as for pages.
    """
    condition = Q()
    for path in closed_collection_paths(viewer):
        condition |= Q(collection__path__startswith=path)
    if not condition:
        return queryset
    return queryset.exclude(condition)


def can_view_document(document, viewer, closed: list[str] | None = None) -> bool:
    """Whether this viewer may open this document (or image): its collection is not closed to them."""
    if closed is None:
        closed = closed_collection_paths(viewer)
    path = document.collection.path
    return not any(path.startswith(prefix) for prefix in closed)
