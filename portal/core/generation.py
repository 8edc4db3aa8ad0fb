"""What moves the site's content generation: a registry of the changes visitors can see.

The page cache, cached fragments and process memos (``portal.core.cache``, ``fragments``, ``memo``) all belong to
one content generation, a counter in the shared cache incremented after the commit of a change
(``invalidate`` below). Incrementing it empties every cache at once, so it must move on every change
a visitor could see, and on nothing else: before this registry any ``wagtailcore`` save moved it, so one editor
typing (a draft revision every few seconds with Wagtail's autosave) emptied every cache all day.

It moves on
    publishing, unpublishing, moving, deleting a live page and changing a slug (Wagtail's page signals and the
    page's own saves), a live page's saves other than editorial bookkeeping, view restrictions of pages and
    collections (and their groups), who is in which group, sites, locales, redirects, collections, images and
    documents,
    and whatever model an app declares with ``watch()``: snippets, statistics, hotlines, settings pages show.

It does not move on
    draft revisions and autosave (a ``Revision`` row and the page's ``latest_revision``, ``draft_title``,
    ``has_unpublished_changes`` fields), saving a page that was never published, page locks, workflow and task
    states, comments, log entries, the reference index, renditions, editing sessions or search statistics.

Apps declare their models from their ``AppConfig.ready()``, so this module knows no feature app::

    from portal.core.generation import watch

    watch(Hotline)                             # every save and deletion
    watch(Banner, fields={"text", "live"})     # only saves that write one of these fields
    watch(Page, ignore=EDITORIAL_FIELDS, when=lambda page: page.live)

A declaration covers the model's subclasses (every page type is a ``Page``) and its many-to-many relations
(the ones named in ``fields``, when given). The test suite checks that draft saves, autosave, locks and
workflows leave cached pages in place and that publishing reaches every visitor
(``tests/portal/core/test_generation.py``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.cache import cache
from django.db import models, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from portal.core.conf import conf

logger = logging.getLogger("portal.core.cache")

GENERATION_KEY = "portal:page-cache:generation"

# Fields of a draftable model (a page) that editing writes without changing what is published.
EDITORIAL_FIELDS = frozenset({
    "latest_revision", "latest_revision_created_at", "draft_title", "has_unpublished_changes",
    "locked", "locked_at", "locked_by", "wagtail_admin_comments",
})


@dataclass(frozen=True)
class Rule:
    """When a save of a watched model changes what visitors see."""

    fields: frozenset[str] | None = None  # a save that names its fields must write one of these (None: any)
    ignore: frozenset[str] = frozenset()  # a save writing only these fields changes nothing visible
    when: Callable[[models.Model], bool] | None = None  # an instance for which this is false is not shown

    def applies(self, instance, update_fields: Iterable[str] | None) -> bool:
        """Whether saving ``instance`` (writing ``update_fields``; None: every field) changes what visitors see."""
        return self.writes_visible(update_fields) and self.shows(instance)

    def writes_visible(self, update_fields: Iterable[str] | None) -> bool:
        """Whether a save writing these fields (None: every field) may change what visitors see."""
        if update_fields is None:
            return True
        written = set(update_fields)
        return bool(written) and not written <= self.ignore and (self.fields is None or bool(written & self.fields))

    def shows(self, instance) -> bool:
        """Whether visitors see this instance (every instance, without ``when``)."""
        return self.when is None or bool(self.when(instance))


_rules: dict[type[models.Model], Rule] = {}


def watch(model: type[models.Model], *, fields: Iterable[str] | None = None, ignore: Iterable[str] = (),
          when: Callable[[models.Model], bool] | None = None) -> None:
    """Declare that saving or deleting ``model`` (or a subclass) changes what visitors see.

    ``fields``: only saves writing one of these count (a save that does not say which fields it writes always
    does); ``ignore``: saves writing only these fields do not count; ``when(instance)``: only instances for
    which it is true are shown to visitors (saves and deletions of others do not count). Many-to-many
    relations of the model (those in ``fields``, when given) are watched too. Call it from ``ready()``.
    """
    _rules[model] = Rule(
        fields=frozenset(fields) if fields is not None else None, ignore=frozenset(ignore), when=when,
    )
    for field in model._meta.local_many_to_many:
        if fields is None or field.name in _rules[model].fields:
            _rules.setdefault(field.remote_field.through, Rule())


def rule_for(model: type[models.Model]) -> Rule | None:
    """The rule of ``model``: its own declaration or its nearest declared ancestor's."""
    for klass in model.__mro__:
        rule = _rules.get(klass)
        if rule is not None:
            return rule
    return None


def watched_models() -> list[type[models.Model]]:
    """The models declared so far (for documentation and tests)."""
    return list(_rules)


# --- The counter: read, bump, forget -----------------------------------------------------------------------
# The caches built on the generation (``portal.core.cache``, ``fragments``, ``memo``) import this module and
# hand it what they keep in this process (``on_forget``), so this module imports none of them.


def local_seconds() -> float:
    """How long this process trusts its last reading of the generation (``PAGE_CACHE_LOCAL_SECONDS``)."""
    return float(conf.PAGE_CACHE_LOCAL_SECONDS or 0)


def tracking() -> bool:
    """Whether content changes must bump the generation: the page cache, fragment caches or process memos
    (``portal.core.memo``) rely on it."""
    return (bool(conf.PAGE_CACHE_ENABLED) or bool(conf.FRAGMENT_CACHE_ENABLED)
            or float(conf.CONTENT_MEMO_SECONDS or 0) > 0)


# What this process forgets when it changes content (memoised answers) and when the generation moves (copies).
_forget_on_change: list[Callable[[], None]] = []
_forget_on_bump: list[Callable[[], None]] = []


def on_forget(callback: Callable[[], None], *, on_change: bool = False) -> None:
    """Call ``callback`` when the generation moves (after this process bumped it) and, with ``on_change``,
    as soon as this process changes content too (before the commit)."""
    (_forget_on_change if on_change else _forget_on_bump).append(callback)


def current_generation() -> int | None:
    """The site's content generation, created if missing (a fresh, never reused value)."""
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, time.time_ns(), timeout=None)
        generation = cache.get(GENERATION_KEY)
    return generation


# This process's last reading of the generation: (when, value).
_NO_READING: tuple[float, int | None] = (float("-inf"), None)  # older than any window
_recent_generation: tuple[float, int | None] = _NO_READING


def read_generation() -> int | None:
    """The current generation for fragments and process memos, or None when the cache cannot be reached (then
    nothing is reused). A reading is reused for ``PAGE_CACHE_LOCAL_SECONDS``, the window the page cache's own
    copies already have: another process's change reaches this one within that time, this process's own at
    once (``forget_generation``)."""
    global _recent_generation
    recent, seconds = _recent_generation, local_seconds()
    if seconds > 0 and time.monotonic() - recent[0] <= seconds:
        return recent[1]
    try:
        generation = current_generation()
    except Exception:
        logger.warning("Content generation unavailable; serving without shared caches", exc_info=True)
        return None
    _recent_generation = (time.monotonic(), generation)
    return generation


def forget_generation() -> None:
    """Read the generation from the cache next time (this process changed it, or a test emptied the cache)."""
    global _recent_generation
    _recent_generation = _NO_READING


def bump_generation() -> None:
    """Make every stored page stale at once. Never raises: a cache outage must not break publishing."""
    try:
        try:
            cache.incr(GENERATION_KEY)
        except ValueError:  # missing: start a fresh generation nobody used before
            cache.add(GENERATION_KEY, time.time_ns(), timeout=None)
    except Exception:
        logger.exception("Could not invalidate the page cache; stored pages expire after PAGE_CACHE_TIMEOUT")
    finally:
        # After the increment, so no other thread of this process re-reads (and keeps) the old generation: the
        # copies, then this process's reading, then the memoised answers.
        for callback in (*_forget_on_bump, forget_generation, *_forget_on_change):
            callback()


def invalidate() -> None:
    """Invalidate the page cache once the current transaction commits (now, outside a transaction).

    After the commit, so no request can render the old content under the new generation (a rolled-back
    change invalidates nothing). Each change schedules its own increment: a few cheap cache operations per
    publish, and no bookkeeping that could lose one. Nothing to bump while no cache relies on the generation
    (entries left from before the page cache was turned off expire within ``PAGE_CACHE_TIMEOUT``;
    ``bump_generation()`` drops them at once). The running request and this process forget their memoised
    answers at once either way, so they read their own change.
    """
    for callback in _forget_on_change:
        callback()
    if tracking():
        transaction.on_commit(bump_generation)


# --- When it moves ---------------------------------------------------------------------------------------


def _invalidate() -> None:
    invalidate()


def _on_save(sender, instance, update_fields=None, raw=False, **kwargs):
    if raw:  # loading fixtures
        return
    rule = rule_for(sender)
    if rule is not None and rule.applies(instance, update_fields):
        _invalidate()


def _on_delete(sender, instance, **kwargs):
    rule = rule_for(sender)
    if rule is not None and rule.shows(instance):
        _invalidate()


def _on_m2m_changed(sender, instance, action, **kwargs):
    if action in {"post_add", "post_remove", "post_clear"} and rule_for(sender) is not None:
        _invalidate()


def _on_page_event(sender, **kwargs):
    _invalidate()


def connect_signals() -> None:
    """Listen to saves, deletions and relation changes of watched models and to Wagtail's page events
    (called from the core app's ready())."""
    from wagtail.signals import page_published, page_slug_changed, page_unpublished, post_page_move

    post_save.connect(_on_save, dispatch_uid="portal_generation_save")
    post_delete.connect(_on_delete, dispatch_uid="portal_generation_delete")
    m2m_changed.connect(_on_m2m_changed, dispatch_uid="portal_generation_m2m")
    for signal, name in ((page_published, "publish"), (page_unpublished, "unpublish"), (post_page_move, "move"),
                         (page_slug_changed, "slug")):
        signal.connect(_on_page_event, dispatch_uid=f"portal_generation_{name}")


def watch_wagtail_models() -> None:
    """The Wagtail and Django models every page depends on (the core app's declarations)."""
    from django.contrib.auth import get_user_model

    from wagtail.contrib.redirects.models import Redirect
    from wagtail.documents import get_document_model
    from wagtail.images import get_image_model
    from wagtail.models import Collection, CollectionViewRestriction, Locale, Page, PageViewRestriction, Site

    watch(Page, ignore=EDITORIAL_FIELDS, when=lambda page: page.live)
    # Redirects: 404s and redirects are kept like pages (portal.core.cache, portal.core.redirects).
    for model in (PageViewRestriction, CollectionViewRestriction, Collection, Site, Locale, Redirect):
        watch(model)
    for model in (get_image_model(), get_document_model()):
        # Wagtail fills in a file's size and hash lazily, on first use: nothing a visitor sees changes.
        watch(model, ignore={"file_size", "file_hash"})
    # Who is in which group decides what members see (deleting a group deletes these rows too).
    watch(get_user_model().groups.through)
