"""The newsletter's access gate: an issue may only contain what its whole audience may read on the site.

Checked when an issue is saved or published (the editor sees which page is the problem) and again when it
is sent, since a page may have been restricted in between. Automatic lists never need checking: they pick
only pages every audience viewer may read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from wagtail.models import Page

from newsletter.services.audience import audience_viewers, includes_public, original_issue
from portal.core.privacy import closed_paths

# Internal page links in Wagtail rich text: <a linktype="page" id="42">.
PAGE_LINK = re.compile(r'<a[^>]*\blinktype="page"[^>]*\bid="(\d+)"|<a[^>]*\bid="(\d+)"[^>]*\blinktype="page"')


@dataclass(frozen=True)
class Violation:
    """A page (or dataset) in an issue that part of its audience may not read."""

    title: str
    message: str


class GateError(Exception):
    """Raised when sending an issue that fails the access gate."""

    def __init__(self, violations: list[Violation]):
        self.violations = violations
        super().__init__("; ".join(violation.message for violation in violations))


def _page_ids_in_rich_text(html: str) -> set[int]:
    return {int(first or second) for first, second in PAGE_LINK.findall(str(html or ""))}


def referenced_page_ids(issue) -> set[int]:
    """Ids of every portal page an issue links to by hand (cards, buttons, links inside text)."""
    ids = _page_ids_in_rich_text(getattr(issue.intro, "source", issue.intro))
    for block in issue.body:
        value = block.value
        if block.block_type in {"featured_page", "call_to_action"}:
            page = value.get("page")
            if page is not None:
                ids.add(page.pk if hasattr(page, "pk") else int(page))
        elif block.block_type == "text":
            ids |= _page_ids_in_rich_text(value.source)
    return ids


def referenced_datasets(issue) -> list:
    return [block.value["dataset"] for block in issue.body if block.block_type == "statistics" and block.value.get(
        "dataset") is not None]


def audience_description(issue) -> str:
    from newsletter.models import Audience

    return "the public" if includes_public(issue) else Audience(issue.audience).label.lower()


def gate_violations(issue, *, audience_of=None) -> list[Violation]:
    """Every referenced page or dataset that is unpublished or restricted beyond the issue's audience.

    ``audience_of``: the issue whose audience counts (by default the original of ``issue``: a translation's
    own audience fields never count).
    """
    audience_of = audience_of or original_issue(issue)
    viewers = audience_viewers(audience_of)
    closed = [closed_paths(viewer) for viewer in viewers]
    audience = audience_description(audience_of)
    violations = []
    pages = Page.objects.filter(pk__in=referenced_page_ids(issue)).only("id", "title", "path", "live")
    for page in pages.order_by("path"):
        if not page.live:
            violations.append(Violation(page.title, f"“{page.title}” is not published, so readers cannot open it."))
        elif any(any(page.path.startswith(path) for path in paths) for paths in closed):
            violations.append(
                Violation(page.title, f"“{page.title}” is restricted beyond this issue's audience ({audience}): "
                                      "remove it or choose an audience that may read it.")
            )
    for dataset in referenced_datasets(issue):
        if not all(dataset.is_visible_to(viewer) for viewer in viewers):
            violations.append(
                Violation(dataset.title, f"The dataset “{dataset.title}” is restricted beyond this issue's "
                                         f"audience ({audience}).")
            )
    return violations


def check_issue(issue, *, audience_of=None) -> None:
    """Raise :class:`GateError` when the issue fails the gate (used again at send time)."""
    violations = gate_violations(issue, audience_of=audience_of)
    if violations:
        raise GateError(violations)


def audience_problems(issue) -> list[str]:
    """Audience settings that cannot work (e.g. a sector audience with no sector)."""
    from newsletter.models import Audience

    if issue.audience == Audience.SECTORS and not list(issue.audience_sectors.all()):
        return ["Choose at least one sector for a sector audience."]
    return []


def issue_errors(issue) -> dict[str, list[str]]:
    """What an editor may not save in an issue, by field: an audience that cannot work (a translation's own
    audience fields never count: the original's audience is its audience), else the gate's violations."""
    from newsletter.models import Audience

    problems = audience_problems(issue) if original_issue(issue) is issue else []
    if problems:
        return {"audience_sectors" if issue.audience == Audience.SECTORS else "audience": problems}
    violations = gate_violations(issue)
    return {"body": [violation.message for violation in violations]} if violations else {}


def validate_issue(issue) -> None:
    """Raise the ``ValidationError`` the admin form shows for ``issue_errors`` (for code that saves issues)."""
    errors = issue_errors(issue)
    if errors:
        raise ValidationError(errors)
