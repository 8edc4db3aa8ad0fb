"""The privacy gate: the one place that decides which pages a viewer may see.

Every channel (page listings, home, search, feeds, sitemap, API, related-page blocks, newsletters) asks
this module instead of checking view restrictions itself. A *viewer* is anonymous, a logged-in user with
groups, or an audience of newsletter recipients described by the groups they all share.

Wagtail stores restrictions as ``PageViewRestriction`` rows on the page at the top of a restricted
subtree. The portal's effective-restriction rule (``effective_restrictions``) widens where a row reaches: its
subtree, every other language version of the pages in it, and every alias of them, recursively. A page is
visible only if the viewer passes every restriction that reaches it. docs/privacy.md tells the whole story.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q, QuerySet

from wagtail.models import CollectionViewRestriction, Page, PageViewRestriction

from portal.core import memo
from portal.core.conf import conf

_CACHE_ATTR = "_portal_viewer"
# An authentication backend that read a user's groups together with the user (portal.members' cached users) leaves
# them here as ``((id, name), ...)``; the gate then asks the database nothing more about that user.
GROUPS_ATTR = "_portal_groups"


def user_groups(user) -> tuple[tuple[int, str], ...]:
    """The (id, name) of every group of this user: from ``GROUPS_ATTR`` when the backend left them, else read."""
    groups = getattr(user, GROUPS_ATTR, None)
    if groups is None:
        groups = tuple(user.groups.values_list("id", "name"))
    return groups


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
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return cls.anonymous()
        if not hasattr(user, _CACHE_ATTR):
            setattr(user, _CACHE_ATTR, cls._of_active_user(user))
        return getattr(user, _CACHE_ATTR)

    @classmethod
    def _of_active_user(cls, user) -> Viewer:
        groups = user_groups(user)
        if second_factor_missing(user, [name for _id, name in groups]):
            return cls.anonymous()  # no restricted content before the second factor (see below)
        return cls(authenticated=True, group_ids=frozenset(group_id for group_id, _name in groups),
                   superuser=user.is_superuser)

    def effective(self) -> Viewer:
        """This viewer reduced to what the gate decides by: its groups narrowed to those some restriction names
        (``restricting_group_ids``). Two viewers with the same effective viewer pass exactly the same page,
        collection and dataset restrictions, so whatever is rendered for one may be shown to the other."""
        if self.superuser or not self.group_ids:
            return self
        return Viewer(authenticated=self.authenticated, group_ids=self.group_ids & restricting_group_ids(),
                      superuser=False)

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

    def failing(self, rules: Iterable[RestrictionRule]) -> list[RestrictionRule]:
        """The rules (``RestrictionRule``) this viewer does not pass."""
        return [rule for rule in rules if not self.passes(rule, rule.group_ids)]


# --- Second factor: members of chosen groups read restricted content only after a TOTP check --------------
# (issue 16, Build 4). Kept apart from the rest of the gate: Viewer.for_user asks this one function.


def second_factor_missing(user, group_names: Iterable[str] | None = None) -> bool:
    """Whether this user belongs to a group of ``PRIVACY_SECOND_FACTOR_GROUPS`` but has not passed a
    second factor (django-otp) in this session. Such a user is an anonymous viewer for restricted content.

    ``user.is_verified`` is set on request users by django-otp's middleware; a user object without it
    (not from a request) counts as unverified.
    """
    required = set(conf.PRIVACY_SECOND_FACTOR_GROUPS)
    if not required or not getattr(user, "is_authenticated", False):
        return False
    if group_names is None:
        group_names = [name for _id, name in user_groups(user)]
    return bool(required.intersection(group_names)) and not _second_factor_passed(user)


def _second_factor_passed(user) -> bool:
    """django-otp's verdict for this session (a user object without ``is_verified`` has not passed it)."""
    is_verified = getattr(user, "is_verified", None)
    return callable(is_verified) and is_verified()


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
    """One page view restriction as the gate needs it: which row, on which page, which kind, which groups."""

    id: int
    page_id: int
    path: str
    restriction_type: str
    group_ids: frozenset[int]


def page_restrictions() -> tuple[RestrictionRule, ...]:
    """Every page view restriction (one query, two when some are for groups), memoised per request and per
    content generation (``portal.core.memo``)."""
    return memo.remember(("privacy:page-restrictions",), _read_page_restrictions)


def _read_page_restrictions() -> tuple[RestrictionRule, ...]:
    rows = list(PageViewRestriction.objects.values_list("id", "page_id", "page__path", "restriction_type"))
    groups: dict[int, set[int]] = {}
    if any(kind == PageViewRestriction.GROUPS for *_ignored, kind in rows):  # the second query only if needed
        links = PageViewRestriction.groups.through.objects.values_list("pageviewrestriction_id", "group_id")
        for restriction_id, group_id in links:
            groups.setdefault(restriction_id, set()).add(group_id)
    return tuple(
        RestrictionRule(id=restriction_id, page_id=page_id, path=path, restriction_type=kind,
                        group_ids=frozenset(groups.get(restriction_id, ())))
        for restriction_id, page_id, path, kind in rows
    )


# Groups named by restrictions kept outside the page tree and collections (statistics datasets): apps register a
# function returning their group ids from their AppConfig.ready(), so this module knows no feature app.
_group_sources: list = []


def register_group_source(source) -> None:
    """Declare a function returning the ids of groups some restriction of an app names (call it from ready();
    the rows must move the content generation when they change, see ``portal.core.generation.watch``)."""
    if source not in _group_sources:
        _group_sources.append(source)


def restricting_group_ids() -> frozenset[int]:
    """Every group some restriction names: page and collection view restrictions and the registered sources
    (memoised per request and content generation)."""
    def read():
        ids = {group_id for rule in page_restrictions() for group_id in rule.group_ids}
        ids.update(group_id for _path, rule in collection_rules() for group_id in rule.group_ids)
        for source in _group_sources:
            ids.update(source())
        return frozenset(ids)
    return memo.remember(("privacy:restricting-groups",), read)


# ---------------------------------------------------------------------------------------------------------
# The effective-restriction rule: where each restriction reaches.
#
# A restriction on page P covers P's subtree; every other language version of any page in what it covers
# (and that version's subtree); and every alias of any page in what it covers (and the alias's subtree);
# repeated until nothing new is covered (an alias of a translation of a page inside, and so on). A page is
# readable by a viewer when the viewer passes every restriction whose reach holds the page.


def rule_reach() -> dict[int, tuple[str, ...]]:
    """For every restriction (by id), the tree paths of the subtrees it covers (memoised like the restrictions;
    one query per round however many restrictions there are: one round when no restricted page has a language
    version or alias elsewhere)."""
    return memo.remember(("privacy:rule-reach",), lambda: _compute_reach(page_restrictions()))


def _compute_reach(rules: Iterable[RestrictionRule]) -> dict[int, tuple[str, ...]]:
    reach: dict[int, list[str]] = {rule.id: [rule.path] for rule in rules}
    frontier: dict[int, list[str]] = {rule.id: [rule.path] for rule in rules}
    while frontier:
        frontier = _next_frontier(reach, frontier)
    return {rule_id: tuple(paths) for rule_id, paths in reach.items()}


def _next_frontier(reach: dict[int, list[str]], frontier: dict[int, list[str]]) -> dict[int, list[str]]:
    """One round (one query): the language versions and aliases of the pages in each rule's frontier that the
    rule does not cover yet (added to ``reach``)."""
    rules_by_path = _rules_by_path(frontier)
    grown: dict[int, list[str]] = {}
    for via, path in _versions_outside(list(rules_by_path)):
        for rule_id in rules_by_path[via]:
            if not path.startswith(tuple(reach[rule_id])):
                reach[rule_id].append(path)
                grown.setdefault(rule_id, []).append(path)
    return grown


def _rules_by_path(frontier: dict[int, list[str]]) -> dict[str, set[int]]:
    """The frontier turned around: for each path, the rules whose frontier holds it."""
    rules_by_path: dict[str, set[int]] = {}
    for rule_id, paths in frontier.items():
        for path in paths:
            rules_by_path.setdefault(path, set()).add(rule_id)
    return rules_by_path


# Treebeard paths use 0-9 and A-Z: every path below P sorts between P and P + "~", so a subtree is an index range.
_VERSIONS_OUTSIDE_SQL = """
WITH frontier(via) AS (VALUES {values}),
inside AS (
    SELECT frontier.via, page.id, page.translation_key FROM frontier
    JOIN {page} page ON page.path >= frontier.via AND page.path < frontier.via || '~'
),
versions AS (
    SELECT inside.via, page.path FROM inside JOIN {page} page ON page.translation_key = inside.translation_key
    UNION
    SELECT inside.via, page.path FROM inside JOIN {page} page ON page.alias_of_id = inside.id
),
outside AS (SELECT via, path FROM versions WHERE NOT (path >= via AND path < via || '~'))
SELECT via, path FROM outside WHERE NOT EXISTS (
    SELECT 1 FROM outside above WHERE above.via = outside.via AND outside.path > above.path
    AND outside.path < above.path || '~'
)
ORDER BY path, via
"""


def _versions_outside(paths: list[str]) -> list[tuple[str, str]]:
    """(frontier path, version path) for the topmost language versions and aliases, outside the frontier
    path, of the pages under each frontier path. The database walks the subtrees; only the tops of the version
    subtrees come back (a translated subtree is one row, however many pages it has), so what the gate reads
    is bounded by the restrictions and languages, not by the number of pages."""
    if not paths:
        return []
    sql = _VERSIONS_OUTSIDE_SQL.format(values=", ".join(["(%s)"] * len(paths)),
                                       page=connection.ops.quote_name(Page._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(sql, paths)
        return [tuple(row) for row in cursor.fetchall()]


def _minimal(paths: Iterable[str]) -> tuple[str, ...]:
    """The paths with those inside another one dropped (a subtree covers its pages)."""
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not kept or not path.startswith(kept[-1]):
            kept.append(path)
    return tuple(kept)


def effective_restrictions(page: Page, *, fresh: bool = False) -> list[RestrictionRule]:
    """The one answer to "which restrictions apply to this page": its own and its ancestors', those of every
    other language version of it and of their ancestors, and for an alias its source's (recursively).

    ``fresh`` reads the database now instead of the memo (for code that changes restrictions and reads back
    within the same request or transaction, such as copying a page).
    """
    if fresh:
        rules = _read_page_restrictions()
        reach = _compute_reach(rules)
    else:
        rules, reach = page_restrictions(), rule_reach()
    return [rule for rule in rules if page.path.startswith(reach.get(rule.id, ()))]


def closed_paths(viewer) -> list[str]:
    """Tree paths of the subtrees this viewer may not enter: the reach of every restriction they fail
    (memoised per request and content generation: ``portal.core.memo``)."""
    viewer = as_viewer(viewer)
    return list(memo.remember(("privacy:closed-paths", viewer), lambda: _closed_paths(viewer)))


def _closed_paths(viewer: Viewer) -> tuple[str, ...]:
    failed = viewer.failing(page_restrictions())
    if not failed:
        return ()
    reach = rule_reach()
    return _minimal(path for rule in failed for path in reach.get(rule.id, ()))


def under(paths: Iterable[str], field: str = "path") -> Q:
    """The condition "in one of these subtrees" (tree ``paths``, of pages, or of collections with
    ``field="collection__path"``); an empty condition for no paths."""
    condition = Q()
    for path in paths:
        condition |= Q(**{f"{field}__startswith": path})
    return condition


def visible_pages(queryset: QuerySet, viewer) -> QuerySet:
    """Narrow a page queryset to the live pages this viewer may read."""
    queryset = queryset.live()
    paths = closed_paths(viewer)
    if not paths:
        return queryset
    return queryset.exclude(under(paths))


def can_view(page: Page, viewer) -> bool:
    """Whether this viewer may read this page (it must be live and outside closed subtrees)."""
    return page.live and not page.path.startswith(tuple(closed_paths(viewer)))


_TRANSLATIONS_ATTR = "_portal_translations"


def visible_translations(page: Page, viewer, request=None) -> dict[str, Page]:
    """The live language versions of a page (itself included) this viewer may read, by language code.

    With a request, the answer for each (page, viewer) is kept on it, so the language switcher and the hreflang
    links of one page view share their queries.
    """
    viewer = as_viewer(viewer)
    answers = request.__dict__.setdefault(_TRANSLATIONS_ATTR, {}) if request is not None else {}
    key = (page.pk, viewer)
    if key not in answers:
        versions = visible_pages(Page.objects.filter(translation_key=page.translation_key), viewer)
        answers[key] = {version.locale.language_code: version for version in versions.select_related("locale")}
    return answers[key]


def all_restricted_paths() -> list[str]:
    """Paths of every subtree some restriction reaches (memoised like ``closed_paths``)."""
    return list(memo.remember(("privacy:restricted-paths",), _all_restricted_paths))


def _all_restricted_paths() -> tuple[str, ...]:
    return _minimal(path for paths in rule_reach().values() for path in paths)


def is_restricted(page: Page, restricted_paths: Iterable[str] | None = None) -> bool:
    """Whether a page sits in any restricted subtree (used to show a lock badge to those who may see it)."""
    if restricted_paths is None:
        restricted_paths = all_restricted_paths()
    return page.path.startswith(tuple(restricted_paths))


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
    condition = under(closed_collection_paths(viewer), "collection__path")
    if not condition:
        return queryset
    return queryset.exclude(condition)


def can_view_document(document, viewer, closed: list[str] | None = None) -> bool:
    """Whether this viewer may open this document (or image): its collection is not closed to them."""
    if closed is None:
        closed = closed_collection_paths(viewer)
    return not document.collection.path.startswith(tuple(closed))


# ---------------------------------------------------------------------------------------------------------
# Render scope: who the page, archive page or email being rendered is for.
#
# References rendered for a viewer (featured pages, calls to action, related cards, latest-from-topic lists,
# rich-text page and document links) are checked at render time against the viewers of the current render:
# the request's user on the site (``ViewerScopeMiddleware``), every audience viewer while an email is
# rendered (``viewing_as``). Outside both, the viewer is anonymous: fail closed.

_render_scope: ContextVar[tuple | None] = ContextVar("portal_render_viewers", default=None)


@contextmanager
def viewing_as(viewers: Iterable):
    """Render what follows for these viewers (users or Viewers): a reference is shown only if all may open it."""
    token = _render_scope.set(("viewers", tuple(as_viewer(viewer) for viewer in viewers)))
    try:
        yield
    finally:
        _render_scope.reset(token)


def render_viewers(fallback_user=None) -> tuple[Viewer, ...]:
    """The viewers of the current render (the request's user, an email's audience, or anonymous)."""
    scope = _render_scope.get()
    if scope is None:
        return (as_viewer(fallback_user),)
    kind, value = scope
    if kind == "request":
        return (Viewer.for_user(getattr(value, "user", None)),)
    return value


def viewable_now(page, fallback_user=None) -> bool:
    """Whether every viewer of the current render may open ``page``."""
    if not getattr(page, "path", None):
        return False
    return all(can_view(page, viewer) for viewer in render_viewers(fallback_user))


def document_viewable_now(document, fallback_user=None) -> bool:
    """Whether every viewer of the current render may open ``document`` (or image)."""
    if getattr(document, "collection_id", None) is None:  # nothing there (None, or "" from a template)
        return False
    return all(can_view_document(document, viewer, memo.remember(("privacy:closed-collections", viewer),
                                                                   lambda v=viewer: tuple(closed_collection_paths(v))))
               for viewer in render_viewers(fallback_user))


class ViewerScopeMiddleware:
    """Makes the request's user the viewer of everything rendered for this request (place after auth)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _render_scope.set(("request", request))
        try:
            return self.get_response(request)
        finally:
            _render_scope.reset(token)


# ---------------------------------------------------------------------------------------------------------
# Images on pages: an image may appear on a page only if everyone who may read the page may open the image.


def implies(rule: RestrictionRule, other: RestrictionRule) -> bool:
    """Whether every viewer who passes ``rule`` also passes ``other`` (page or collection rules)."""
    if other.restriction_type == PageViewRestriction.LOGIN:
        return rule.restriction_type in (PageViewRestriction.LOGIN, PageViewRestriction.GROUPS)
    if other.restriction_type == PageViewRestriction.GROUPS:
        return rule.restriction_type == PageViewRestriction.GROUPS and rule.group_ids <= other.group_ids
    return rule.restriction_type == other.restriction_type  # shared passwords close every channel alike


def collection_rules() -> tuple[tuple[str, RestrictionRule], ...]:
    """(collection path, rule) for every collection view restriction (memoised like page restrictions)."""
    def read():
        rows = CollectionViewRestriction.objects.select_related("collection").prefetch_related("groups")
        return tuple(
            (row.collection.path, RestrictionRule(id=row.id, page_id=0, path=row.collection.path,
                                                  restriction_type=row.restriction_type,
                                                  group_ids=frozenset(group.id for group in row.groups.all())))
            for row in rows
        )
    return memo.remember(("privacy:collection-rules",), read)


def unusable_collection_paths(page_rules: Iterable[RestrictionRule]) -> list[str]:
    """Paths of the collections whose images some reader of a page with these restrictions could not open."""
    page_rules = list(page_rules)
    return [path for path, rule in collection_rules() if not implied(rule, page_rules)]


def implied(rule: RestrictionRule, others: Iterable[RestrictionRule]) -> bool:
    """Whether every viewer who passes one of ``others`` passes ``rule`` too (it shuts out no one they let in)."""
    return any(implies(other, rule) for other in others)


def image_usable_on(image, page_rules: Iterable[RestrictionRule]) -> bool:
    """Whether every reader of a page with these effective restrictions may open ``image``."""
    return not image.collection.path.startswith(tuple(unusable_collection_paths(page_rules)))
