"""Signed-in members kept in the shared cache between requests, so a member's page view reads no user row.

Django reads the session's user from the database on every request (``AuthenticationMiddleware``), and the
privacy gate, the two-factor middleware and Wagtail's user bar then ask for the user's groups and permissions
(three more queries). With ``AUTH_USER_CACHE_SECONDS`` > 0 (default: 300 with a shared cache, ``CACHE_URL``),
``MemberBackend.get_user`` keeps the user as read (with their membership and organisation), their groups
(``portal.core.privacy.GROUPS_ATTR``) and their permissions (Django's own ``_perm_cache``) in the cache, and a
request costs one cache read instead of four queries.

Who is kept
    Members and other accounts that cannot use the admin. Staff (``is_staff``, superusers, anyone with
    ``wagtailadmin.access_admin``) are read from the database on every request, as before: their permissions
    change more often and matter more. A member granted admin access is kept as a member until their entry
    is dropped (below): meanwhile the admin still refuses them, so that errs on the closed side.

What drops an entry (at once, in every process)
    Each entry records two version numbers read *before* the user was read: the user's own and one for every
    user. An entry whose versions are not the current ones is never used. The user's version moves when the
    user is saved or deleted (deactivation, password change: the session's hash check then logs them out,
    ``last_login``), when their groups or own permissions change (from either side of the relation), and when
    their membership is saved or deleted; the shared version when a group's permissions change, a group or
    permission is deleted, or an organisation is saved or deleted (activation, sector). Each change moves them
    both at once and again after its transaction commits, so a request that read the old rows during the change
    cannot store them under the new version. Changes made with ``QuerySet.update()`` or raw SQL send no signal:
    such code must call ``forget_user`` or ``forget_all``; ``AUTH_USER_CACHE_SECONDS`` bounds what it misses.

If the cache cannot be reached, users are read from the database, as without this module.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction

from portal.members.conf import conf

logger = logging.getLogger(__name__)

ALL_VERSION_KEY = "portal:auth:version"
USER_VERSION_PREFIX = "portal:auth:version:"
ENTRY_PREFIX = "portal:auth:user:"
# Attributes left on the request's user object that must never be stored with it.
_PER_REQUEST_ATTRIBUTES = ("_portal_viewer", "otp_device", "is_verified", "backend")


@dataclass
class Entry:
    """A stored user and the versions read before it was read."""

    versions: tuple
    user: object


def seconds() -> int:
    return int(conf.AUTH_USER_CACHE_SECONDS or 0)


def _keys(user_id) -> tuple[str, str, str]:
    return ALL_VERSION_KEY, f"{USER_VERSION_PREFIX}{user_id}", f"{ENTRY_PREFIX}{user_id}"


def _versions(found: dict, keys) -> tuple:
    return tuple(found.get(key) for key in keys)


def load(user_id, read, keep) -> object | None:
    """The user ``user_id`` from the cache, else ``read()`` (a user or None), stored when ``keep(user)``."""
    if seconds() <= 0:
        return read()
    all_key, user_key, entry_key = _keys(user_id)
    try:
        found = cache.get_many([all_key, user_key, entry_key])
        versions = _versions(found, (all_key, user_key))
        entry = found.get(entry_key)
        # Entries are stored under complete versions only, so a match means both versions are there.
        if entry is not None and entry.versions == versions:
            return entry.user
        versions = _with_missing_versions_set((all_key, user_key), versions)
    except Exception:
        logger.warning("User cache unavailable; reading the user from the database", exc_info=True)
        return read()
    user = read()
    if user is not None and None not in versions and keep(user):
        _store(entry_key, user, versions)
    return user


def _with_missing_versions_set(keys: tuple[str, str], versions: tuple) -> tuple:
    """The versions, after giving each missing one (first use, or evicted) a fresh value nobody stored under;
    another process may have set it first, so they are read back."""
    if None not in versions:
        return versions
    for key, value in zip(keys, versions, strict=True):
        if value is None:
            cache.add(key, time.time_ns(), timeout=None)
    return _versions(cache.get_many(list(keys)), keys)


def _store(entry_key: str, user, versions: tuple) -> None:
    """Keep a copy of ``user`` without its per-request attributes, valid while ``versions`` are current."""
    stored = {name: value for name, value in user.__dict__.items() if name not in _PER_REQUEST_ATTRIBUTES}
    copy = user.__class__.__new__(user.__class__)
    copy.__dict__.update(stored)
    try:
        cache.set(entry_key, Entry(versions=versions, user=copy), timeout=seconds())
    except Exception:
        logger.warning("Could not store a user in the cache", exc_info=True)


def _bump(key: str) -> None:
    try:
        try:
            cache.incr(key)
        except ValueError:  # missing: entries stored under an older value are stale anyway
            cache.add(key, time.time_ns(), timeout=None)
    except Exception:
        logger.exception("Could not drop cached users; they expire after AUTH_USER_CACHE_SECONDS")


def _bump_now_and_after_commit(key: str) -> None:
    _bump(key)
    transaction.on_commit(lambda: _bump(key))


def forget_user(user_id) -> None:
    """Drop the cached copy of one user (now, and again once the running transaction commits)."""
    if user_id is not None and seconds() > 0:
        _bump_now_and_after_commit(f"{USER_VERSION_PREFIX}{user_id}")


def forget_all() -> None:
    """Drop every cached user (now, and again once the running transaction commits)."""
    if seconds() > 0:
        _bump_now_and_after_commit(ALL_VERSION_KEY)


def _user_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        forget_user(instance.pk)


def _membership_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        forget_user(instance.user_id)


def _everyone_changed(sender, raw=False, **kwargs):
    if not raw:
        forget_all()


def _relation_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """A user's groups or own permissions, changed from the user's side or from the group's/permission's."""
    if action not in {"post_add", "post_remove", "post_clear", "pre_clear"}:
        return
    if not reverse:
        forget_user(instance.pk)
    elif pk_set:
        for user_id in pk_set:
            forget_user(user_id)
    else:  # cleared from the group's side: which users is no longer known
        forget_all()


def _group_permissions_changed(sender, action, **kwargs):
    if action in {"post_add", "post_remove", "post_clear"}:
        forget_all()


def connect_signals() -> None:
    """Drop cached users on every change their entries depend on (called from the members app's ready())."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from .models import Membership, Organisation

    user_model = get_user_model()
    uid = "portal_user_cache"
    post_save.connect(_user_changed, sender=user_model, dispatch_uid=f"{uid}_user_save")
    post_delete.connect(_user_changed, sender=user_model, dispatch_uid=f"{uid}_user_delete")
    post_save.connect(_membership_changed, sender=Membership, dispatch_uid=f"{uid}_membership_save")
    post_delete.connect(_membership_changed, sender=Membership, dispatch_uid=f"{uid}_membership_delete")
    for model in (Organisation, Group, Permission):
        post_save.connect(_everyone_changed, sender=model, dispatch_uid=f"{uid}_{model.__name__}_save")
        post_delete.connect(_everyone_changed, sender=model, dispatch_uid=f"{uid}_{model.__name__}_delete")
    m2m_changed.connect(_relation_changed, sender=user_model.groups.through, dispatch_uid=f"{uid}_groups")
    m2m_changed.connect(_relation_changed, sender=user_model.user_permissions.through,
                        dispatch_uid=f"{uid}_permissions")
    m2m_changed.connect(_group_permissions_changed, sender=Group.permissions.through,
                        dispatch_uid=f"{uid}_group_permissions")
