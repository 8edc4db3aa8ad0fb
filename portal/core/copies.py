"""Copies never widen who may read a page.

Two library behaviours are corrected here, installed once from the core app's ``ready()``:

- Wagtail's ``CopyPageAction`` copies only the restrictions on the page itself, and none when the destination
  already has one; children in a copied subtree get the copied root's rows, never their own. A Law
  enforcement page copied into a members-only section would become readable by every member. After each page
  is copied (single pages and every page of a subtree), the copy is given, on itself, every restriction that
  applied to its source and that its own rows do not already cover (compared by what they let through), so
  that opening the destination section later does not open the copy; carried restrictions are audit-logged.
- wagtail-localize deletes a translation's restriction when its source has none
  (``TranslationSource.sync_view_restrictions``). Under the portal's effective-restriction rule a restriction
  on any language version covers all of them, so that sync is unnecessary, and its deletion would widen access
  as a side effect of saving a translation: it is turned off.

Wagtail offers no hook for copies made outside the admin view (``page.copy()``, ``copy_for_translation``), so
this wraps the action's per-page method; the wrapper only adds rows, never removes them.
"""

from __future__ import annotations

import logging

from django.db import transaction

from wagtail.models import Page, PageViewRestriction

from portal.core import privacy

logger = logging.getLogger(__name__)

CARRIED_ACTION = "portal.restriction.carried_to_copy"


def restrictions_missing_on(copy: Page, source: Page) -> list[privacy.RestrictionRule]:
    """The source's effective restrictions that no restriction on the copy itself covers.

    Only the copy's own rows count, not those of the section it was copied into: an editor opening that section
    later must not open the copy of a page restricted elsewhere. A new language version (same translation key)
    lacks nothing: every restriction that reaches its source reaches it too.
    """
    if copy.translation_key == source.translation_key:
        return []
    own, _elsewhere = _own_and_elsewhere(copy)
    return [rule for rule in privacy.effective_restrictions(source, fresh=True) if not privacy.implied(rule, own)]


def _own_and_elsewhere(page: Page) -> tuple[list[privacy.RestrictionRule], list[privacy.RestrictionRule]]:
    """The page's effective restrictions (read now): the rows on the page itself, and those reaching it from
    elsewhere (an ancestor, another language version, an alias source)."""
    rules = privacy.effective_restrictions(page, fresh=True)
    return [rule for rule in rules if rule.page_id == page.pk], [rule for rule in rules if rule.page_id != page.pk]



def carry_restrictions(source: Page, copy: Page, user=None) -> list[PageViewRestriction]:
    """Give ``copy`` every restriction of ``source`` it lacks; returns the rows created (logged)."""
    from wagtail.log_actions import log

    created = []
    for rule in restrictions_missing_on(copy, source):
        row = PageViewRestriction.objects.create(page=copy, restriction_type=rule.restriction_type)
        if rule.group_ids:
            row.groups.set(rule.group_ids)
        if rule.restriction_type == PageViewRestriction.PASSWORD:
            row.password = PageViewRestriction.objects.get(pk=rule.id).password
            row.save(update_fields=["password"])
        created.append(row)
        log(instance=copy, action=CARRIED_ACTION, user=user,
            data={"source_page_id": source.pk, "restriction_type": rule.restriction_type,
                  "group_ids": sorted(rule.group_ids), "from_restriction_page_id": rule.page_id})
        logger.info("Copy %s of page %s keeps restriction %s of its source", copy.pk, source.pk, rule.id)
    return created


def drop_duplicates_on_translation(source: Page, copy: Page) -> int:
    """A new translation (``copy_for_translation``) is covered by its source's restrictions through the
    effective rule; the rows Wagtail just duplicated onto it would only make removing the restriction later
    need two edits. Removes exactly those duplicates (no one gains access: the source's rows still reach the
    copy) and returns how many."""
    if copy.translation_key != source.translation_key or copy.locale_id == source.locale_id:
        return 0
    own, elsewhere = _own_and_elsewhere(copy)
    duplicates = [rule.id for rule in own if privacy.implied(rule, elsewhere)]
    PageViewRestriction.objects.filter(pk__in=duplicates).delete()  # none: no query
    return len(duplicates)


def install() -> None:
    """Wrap Wagtail's per-page copy and turn off wagtail-localize's restriction sync (idempotent)."""
    from wagtail.actions.copy_page import CopyPageAction

    if getattr(CopyPageAction._copy_page, "_portal_carries_restrictions", False):
        return
    original_copy_page = CopyPageAction._copy_page

    def _copy_page(self, page, to=None, update_attrs=None, exclude_fields=None, _mpnode_attrs=None):
        with transaction.atomic():
            copy = original_copy_page(self, page, to=to, update_attrs=update_attrs,
                                      exclude_fields=exclude_fields, _mpnode_attrs=_mpnode_attrs)
            drop_duplicates_on_translation(page, copy)
            carry_restrictions(page, copy, user=self.user)
        return copy

    _copy_page._portal_carries_restrictions = True
    CopyPageAction._copy_page = _copy_page

    try:
        from wagtail_localize.models import TranslationSource
    except ImportError:  # pragma: no cover - wagtail-localize is a dependency
        return

    def sync_view_restrictions(self, original, translation_page):
        """Turned off: the effective-restriction rule covers every language version (``portal.core.copies``)."""

    TranslationSource.sync_view_restrictions = sync_view_restrictions
