"""Privacy proven by a model: random sequences of editors' and administrators' acts, and after every step what
each viewer can reach on every channel is compared with a reference model written independently of the gate.

The reference model is a few lines (``Model.visible``): a page is visible to a viewer when it is live and no
restriction on any page that *concerns* it shuts the viewer out, where the pages that concern a page are found by
closing over "its ancestors", "its other language versions" and "the source it is an alias of". It keeps its own
record of where every page sits, which pages are language versions or aliases of which, and which restriction or
newsletter audience an editor set where; only liveness is read back from Wagtail (publishing rules are Wagtail's,
not the privacy rule's).

Channels compared after every step, for an anonymous visitor, a member of the law-enforcement sector, a member of
the hotline sector and a plain member: the gate (``visible_pages``: listings, search, feeds, API), page serving
(``portal.core.serving.refusal``, what the ``on_serve_page`` hook answers), rich-text links rendered for that
viewer, and over HTTP for the anonymous visitor the sitemap and the pages API.

Example count: ``PRIVACY_MODEL_EXAMPLES`` (default 30) sequences of up to ``PRIVACY_MODEL_STEPS`` (default 12).
"""

from __future__ import annotations

import itertools
import os
import re
from dataclasses import dataclass, field

from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client, RequestFactory

from wagtail.models import Locale, Page, PageViewRestriction
from wagtail.rich_text import expand_db_html

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from newsletter.models import Audience, NewsletterIssue
from portal.core import privacy, serving
from portal.members.models import MEMBERS_GROUP_NAME
from portal.members.services import set_organisation_active
from tests.factories import StandardPageFactory, UserFactory, make_site_home, translate
from tests.newsletter.issue_factories import NewsletterIndexPageFactory, NewsletterIssueFactory
from tests.portal.members.factories import member_of, sector

pytestmark = pytest.mark.django_db(transaction=False)

EXAMPLES = int(os.environ.get("PRIVACY_MODEL_EXAMPLES", "30"))
STEPS = int(os.environ.get("PRIVACY_MODEL_STEPS", "12"))

KINDS = ("login", "members", "law-enforcement", "hotline")  # what an editor may restrict a page to
AUDIENCES = ("public", "members", "law-enforcement", "hotline")  # what an issue may be addressed to
VIEWERS = ("anonymous", "plain member", "law-enforcement member", "hotline member")
counter = itertools.count()


# --- The reference model ---------------------------------------------------------------------------------------

@dataclass
class Node:
    parent: int | None
    locale: str
    key: int  # language versions share a key
    alias_of: int | None = None
    kinds: set[str] = field(default_factory=set)  # restrictions an editor set (or a copy carried) here
    audience: str | None = None  # a newsletter issue's published audience (on the original only)
    is_issue: bool = False


class Model:
    """Where pages sit and what protects them, recorded from the acts themselves."""

    def __init__(self):
        self.nodes: dict[int, Node] = {}
        self.groups: dict[str, set[str]] = {
            "anonymous": set(), "plain member": {"members"},
            "law-enforcement member": {"members", "law-enforcement"}, "hotline member": {"members", "hotline"},
        }

    def concerns(self, page_id: int) -> set[int]:
        """Every page whose restrictions apply to this one: ancestors, language versions, alias sources, closed."""
        found, todo = set(), [page_id]
        while todo:
            current = todo.pop()
            if current in found:
                continue
            found.add(current)
            node = self.nodes[current]
            if node.parent in self.nodes:
                todo.append(node.parent)
            todo.extend(other for other, n in self.nodes.items() if n.key == node.key)
            if node.alias_of is not None:
                todo.append(node.alias_of)
        return found

    def passes(self, viewer: str, kind: str) -> bool:
        if viewer == "anonymous":
            return False
        return kind == "login" or kind in self.groups[viewer]

    def visible(self, page_id: int, viewer: str, live: bool) -> bool:
        if not live:
            return False
        for concerned in self.concerns(page_id):
            node = self.nodes[concerned]
            kinds = set(node.kinds)
            if node.is_issue and node.audience not in (None, "public") and node.locale == "en":
                kinds.add(node.audience)
            if not all(self.passes(viewer, kind) for kind in kinds):
                return False
        return True

    def effective_kinds(self, page_id: int) -> set[str]:
        kinds = set()
        for concerned in self.concerns(page_id):
            kinds |= self.nodes[concerned].kinds
        return kinds


# --- The machine -------------------------------------------------------------------------------------------------

class PrivacyMachine(RuleBasedStateMachine):
    """Drives the real site (Wagtail, wagtail-localize, the members app) and checks it against ``Model``."""

    world = None  # set by the test: the base site, built once

    def __init__(self):
        super().__init__()
        self.savepoint = transaction.savepoint()
        self.model = Model()
        world = self.world
        self.users = {name: type(user).objects.get(pk=user.pk) for name, user in world["users"].items()}
        for page in (world["home"], world["fr_home"], world["archive"], world["fr_archive"]):
            self.model.nodes[page.pk] = Node(parent=None, locale=page.locale.language_code, key=self._key(page))
        self.model.nodes[world["archive"].pk].parent = world["home"].pk
        self.model.nodes[world["fr_archive"].pk].parent = world["fr_home"].pk
        self.tracked: list[int] = []  # pages the machine made (the base pages are public and stay so)
        self.groups = world["groups"]

    def teardown(self):
        transaction.savepoint_rollback(self.savepoint)

    # -- helpers
    @staticmethod
    def _key(page) -> int:
        return hash(str(Page.objects.get(pk=page.pk).translation_key))

    def _new(self, page, parent_id: int | None, *, alias_of=None, is_issue=False) -> None:
        page = Page.objects.get(pk=page.pk)
        self.model.nodes[page.pk] = Node(parent=parent_id, locale=page.locale.language_code, key=self._key(page),
                                         alias_of=alias_of, is_issue=is_issue)
        self.tracked.append(page.pk)

    def _pick(self, data, pages, label):
        return data.draw(st.sampled_from(sorted(pages)), label=label)

    def _sections(self, locale: str | None = None) -> list[int]:
        """Pages that can hold standard pages (the home pages and standard pages), optionally in one locale."""
        homes = [self.world["home"].pk, self.world["fr_home"].pk]
        standard = [pk for pk in self.tracked if not self.model.nodes[pk].is_issue]
        return [pk for pk in homes + standard if locale is None or self.model.nodes[pk].locale == locale]

    def _pages(self) -> list[int]:
        """The standard pages the machine made (not newsletter issues)."""
        return [pk for pk in self.tracked if not self.model.nodes[pk].is_issue]

    def _restrict(self, page_id: int, kind: str) -> None:
        page = Page.objects.get(pk=page_id)
        if kind == "login":
            PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.LOGIN)
        else:
            restriction = PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.GROUPS)
            restriction.groups.set([self.groups[kind]])
        self.model.nodes[page_id].kinds.add(kind)

    # -- rules: pages
    @rule(data=st.data(), live=st.booleans())
    def create(self, data, live):
        parent_id = self._pick(data, self._sections(), "parent")
        parent = Page.objects.get(pk=parent_id)
        n = next(counter)
        page = StandardPageFactory(parent=parent, title=f"Page {n}", slug=f"p{n}", live=live)
        if live:
            page.save_revision().publish()
        self._new(page, parent_id)

    def _editable(self) -> list[int]:
        """Pages with their own content (an alias follows its source: Wagtail refuses revisions of aliases)."""
        return [pk for pk in self.tracked if self.model.nodes[pk].alias_of is None]

    @precondition(lambda self: self._editable())
    @rule(data=st.data())
    def publish(self, data):
        page = Page.objects.get(pk=self._pick(data, self._editable(), "page")).specific
        page.save_revision().publish()

    @precondition(lambda self: self._editable())
    @rule(data=st.data())
    def unpublish(self, data):
        page = Page.objects.get(pk=self._pick(data, self._editable(), "page"))
        if page.live:
            page.specific.unpublish()

    @precondition(lambda self: any(self._translatable()))
    @rule(data=st.data())
    def translate(self, data):
        page_id = self._pick(data, self._translatable(), "page")
        parent_fr = self._french_parent(page_id)
        translation = translate(Page.objects.get(pk=page_id), "fr")
        self._new(translation, parent_fr, is_issue=self.model.nodes[page_id].is_issue)

    @precondition(lambda self: any(self._translatable()))
    @rule(data=st.data())
    def translate_with_localize(self, data):
        from wagtail_localize.models import Translation, TranslationSource

        page_id = self._pick(data, self._translatable(), "page")
        parent_fr = self._french_parent(page_id)
        source, _created = TranslationSource.get_or_create_from_instance(Page.objects.get(pk=page_id).specific)
        translation = Translation.objects.create(source=source, target_locale=Locale.objects.get(language_code="fr"))
        with _run_on_commit():
            translation.save_target(publish=True)
        target = Page.objects.get(translation_key=source.object_id, locale__language_code="fr")
        self._new(target, parent_fr, is_issue=self.model.nodes[page_id].is_issue)

    def _translatable(self) -> list[int]:
        return [pk for pk in self.tracked if self.model.nodes[pk].locale == "en"
                and self._french_parent(pk) is not None and self._french_version(pk) is None
                and self.model.nodes[pk].alias_of is None]

    def _french_version(self, page_id: int) -> int | None:
        key = self.model.nodes[page_id].key
        return next((pk for pk, node in self.model.nodes.items() if node.key == key and node.locale == "fr"), None)

    def _french_parent(self, page_id: int) -> int | None:
        parent = self.model.nodes[page_id].parent
        return self._french_version(parent) if parent is not None else None

    @precondition(lambda self: self._pages())
    @rule(data=st.data())
    def move(self, data):
        page_id = self._pick(data, self._pages(), "page")
        page = Page.objects.get(pk=page_id)
        targets = [pk for pk in self._sections(self.model.nodes[page_id].locale)
                   if not Page.objects.get(pk=pk).path.startswith(page.path) and pk != self.model.nodes[page_id].parent]
        if not targets:
            return
        target = self._pick(data, targets, "to")
        page.specific.move(Page.objects.get(pk=target), pos="last-child")
        self.model.nodes[page_id].parent = target

    @precondition(lambda self: self._pages())
    @rule(data=st.data())
    def alias(self, data):
        source_id = self._pick(data, self._pages(), "source")
        locale = self.model.nodes[source_id].locale
        parent_id = self._pick(data, self._sections(locale), "parent")
        n = next(counter)
        alias = Page.objects.get(pk=source_id).specific.create_alias(
            parent=Page.objects.get(pk=parent_id), update_slug=f"alias{n}")
        self._new(alias, parent_id, alias_of=source_id)

    @precondition(lambda self: self._pages())
    @rule(data=st.data())
    def copy(self, data):
        source_id = self._pick(data, self._pages(), "source")
        locale = self.model.nodes[source_id].locale
        parent_id = self._pick(data, self._sections(locale), "to")
        n = next(counter)
        copy = Page.objects.get(pk=source_id).specific.copy(
            to=Page.objects.get(pk=parent_id), update_attrs={"slug": f"copy{n}", "title": f"Copy {n}"},
            keep_live=True, recursive=False)
        self._new(copy, parent_id)
        # The promise: a copy is never readable by anyone who could not read its source.
        self.model.nodes[copy.pk].kinds |= self.model.effective_kinds(source_id)

    @precondition(lambda self: self._pages())
    @rule(data=st.data(), kind=st.sampled_from(KINDS))
    def restrict(self, data, kind):
        page_id = self._pick(data, self._pages(), "page")  # an issue's privacy is its audience
        if kind not in self.model.nodes[page_id].kinds:
            self._restrict(page_id, kind)

    @precondition(lambda self: any(self.model.nodes[pk].kinds for pk in self.tracked))
    @rule(data=st.data())
    def remove_restriction(self, data):
        page_id = self._pick(data, [pk for pk in self.tracked if self.model.nodes[pk].kinds], "page")
        PageViewRestriction.objects.filter(page_id=page_id).delete()  # an editor's explicit act
        self.model.nodes[page_id].kinds.clear()

    # -- rules: newsletter issues
    @rule(audience=st.sampled_from(AUDIENCES))
    def create_issue(self, audience):
        issue = NewsletterIssueFactory.build()
        self._set_audience(issue, audience)
        self.world["archive"].specific.add_child(instance=issue)
        issue.save_revision().publish()
        self._new(issue, self.world["archive"].pk, is_issue=True)
        self.model.nodes[issue.pk].audience = audience

    def _issues(self, locale: str) -> list[int]:
        return [pk for pk in self.tracked if self.model.nodes[pk].is_issue and self.model.nodes[pk].locale == locale]

    def _set_audience(self, issue, audience: str) -> None:
        if audience == "public":
            issue.audience = Audience.PUBLIC
        elif audience == "members":
            issue.audience = Audience.MEMBERS
        else:
            issue.audience = Audience.SECTORS
            issue.audience_sectors = [sector(audience)]

    @precondition(lambda self: self._issues("en"))
    @rule(data=st.data(), audience=st.sampled_from(AUDIENCES))
    def change_audience(self, data, audience):
        issue_id = self._pick(data, self._issues("en"), "issue")
        issue = NewsletterIssue.objects.get(pk=issue_id)
        self._set_audience(issue, audience)
        issue.save_revision().publish()
        self.model.nodes[issue_id].audience = audience

    @precondition(lambda self: any(self._french_version(pk) is None for pk in self._issues("en")))
    @rule(data=st.data(), widen=st.booleans())
    def translate_issue(self, data, widen):
        issue_id = self._pick(data, [pk for pk in self._issues("en") if self._french_version(pk) is None], "issue")
        translation = translate(Page.objects.get(pk=issue_id), "fr")
        if widen:  # an editor opens the French version to the public: it must change nothing
            translation.audience = Audience.PUBLIC
            translation.save_revision().publish()
        self._new(translation, self.world["fr_archive"].pk, is_issue=True)

    # -- rules: people
    @rule(viewer=st.sampled_from(("law-enforcement member", "hotline member")), active=st.booleans())
    def organisation_active(self, viewer, active):
        organisation = self.users[viewer].membership.organisation
        organisation.refresh_from_db()
        set_organisation_active(organisation, active)
        self.model.groups[viewer] = {"members", organisation.sector.slug} if active else set()

    @rule(to=st.sampled_from(("hotline", "law-enforcement")))
    def change_sector(self, to):
        organisation = self.users["hotline member"].membership.organisation
        organisation.refresh_from_db()
        organisation.sector = sector(to)
        organisation.save()
        if self.model.groups["hotline member"]:
            self.model.groups["hotline member"] = {"members", to}

    # -- the comparison
    @invariant()
    def every_channel_agrees_with_the_model(self):
        if not self.tracked:
            return
        live = dict(Page.objects.filter(pk__in=self.tracked).values_list("pk", "live"))
        links = "".join(f'<a linktype="page" id="{pk}">p{pk}</a>' for pk in self.tracked)
        for name in VIEWERS:
            user = self.users.get(name)
            if user is not None:
                user = type(user).objects.get(pk=user.pk)
            viewer = privacy.Viewer.for_user(user)
            expected = {pk for pk in self.tracked if self.model.visible(pk, name, live[pk])}
            gate = set(privacy.visible_pages(Page.objects.filter(pk__in=self.tracked), viewer)
                       .values_list("pk", flat=True))
            assert gate == expected, f"gate for {name}: extra {gate - expected}, missing {expected - gate}"
            request = RequestFactory().get("/")
            request.user = user or _anonymous()
            served = {pk for pk in self.tracked
                      if live[pk] and serving.refusal(Page.objects.get(pk=pk).specific, request) is None}
            assert served == expected, f"serving for {name}: extra {served - expected}, missing {expected - served}"
            with privacy.viewing_as([viewer]):
                html = expand_db_html(links)
            linked = {pk for pk in self.tracked if f">p{pk}<" in html and _href_for(html, pk)}
            assert linked == expected, f"rich text for {name}: extra {linked - expected}, missing {expected - linked}"
        client = Client()
        sitemap = client.get("/sitemap.xml").content.decode()
        api = {item["id"] for item in client.get("/api/v2/pages/", {"limit": 100}).json()["items"]}
        expected = {pk for pk in self.tracked if self.model.visible(pk, "anonymous", live[pk])}
        assert api & set(self.tracked) == expected, "pages API for anonymous"
        for pk in set(self.tracked) - expected:
            url = Page.objects.get(pk=pk).url
            assert not url or f"{url}<" not in sitemap, f"sitemap lists {url}"


def _href_for(html: str, pk: int) -> bool:
    return re.search(rf'<a href="[^"]*">p{pk}</a>', html) is not None


def _anonymous():
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


class _run_on_commit:
    """Run what wagtail-localize queues with on_commit at once (the test's transaction never commits)."""

    def __enter__(self):
        from django.db import connection

        self.connection = connection
        self.start = len(connection.run_on_commit)

    def __exit__(self, *exc):
        if exc[0] is not None:
            return
        while len(self.connection.run_on_commit) > self.start:
            _sids, callback, _robust = self.connection.run_on_commit.pop(self.start)
            callback()


def build_world() -> dict:
    home = make_site_home()
    Locale.objects.get_or_create(language_code="fr")
    fr_home = translate(home, "fr", title="Réseau")
    archive = NewsletterIndexPageFactory(parent=home)
    fr_archive = translate(archive, "fr")
    groups = {"members": Group.objects.get(name=MEMBERS_GROUP_NAME),
              "law-enforcement": Group.objects.get(name="Law enforcement"),
              "hotline": Group.objects.get(sector_mapping__sector_slug="hotline")}
    plain = UserFactory()  # a member of the network in no sector group
    plain.groups.set([groups["members"]])
    users = {"plain member": plain, "law-enforcement member": member_of("law-enforcement"),
             "hotline member": member_of("hotline")}
    return {"home": home, "fr_home": fr_home, "archive": archive, "fr_archive": fr_archive, "groups": groups,
            "users": users}


def test_what_every_viewer_sees_matches_the_reference_model():
    PrivacyMachine.world = build_world()
    run_state_machine_as_test(
        PrivacyMachine,
        settings=settings(max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None,
                          suppress_health_check=list(HealthCheck)),
    )
