"""Practice submissions: a member's article or conference notes becomes a draft page in the moderation workflow.

The page is created under the article (or conference notes) index with no owner (the editors own it, through
their page permissions), its first revision is saved, and the site's workflow starts at once, so moderators
are notified as for an editor's submission. Attachments are stored as documents in a collection only editors and
moderators may open, after the same checks as documents uploaded in the admin (allowed extensions, size).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator
from django.db import transaction
from django.utils.html import escape
from django.utils.text import slugify

from wagtail.documents import get_document_model
from wagtail.log_actions import log
from wagtail.models import Collection, CollectionViewRestriction, Page, WorkflowState

from ..models import PracticeSubmission

SUBMISSIONS_COLLECTION = "Practice submissions (unpublished)"
REVIEW_GROUPS = ("Editors", "Moderators")
MAX_ATTACHMENTS = 3


class PracticeRefused(Exception):
    """The submission cannot be accepted; the message says why."""


def paragraphs_html(text: str) -> list[str]:
    """Plain text typed by a member as escaped HTML paragraphs (members never send markup)."""
    blocks = [block.strip() for block in text.replace("\r\n", "\n").split("\n\n") if block.strip()]
    return ["<p>" + "<br>".join(escape(line) for line in block.split("\n")) + "</p>" for block in blocks]


def submissions_collection() -> Collection:
    """The collection attachments go to: readable only by the editors and moderators until they publish."""
    collection = Collection.objects.filter(name=SUBMISSIONS_COLLECTION).first()
    if collection is None:
        root = Collection.get_first_root_node() or Collection.add_root(name="Root")
        collection = root.add_child(name=SUBMISSIONS_COLLECTION)
    if not CollectionViewRestriction.objects.filter(collection=collection).exists():
        restriction = CollectionViewRestriction.objects.create(
            collection=collection, restriction_type=CollectionViewRestriction.GROUPS)
        restriction.groups.set(Group.objects.filter(name__in=REVIEW_GROUPS))
    return collection


def check_attachment(upload) -> None:
    """The checks a document uploaded in the admin gets: allowed extension and size."""
    limit = settings.WAGTAILDOCS_MAX_UPLOAD_SIZE
    if limit and upload.size > limit:
        raise PracticeRefused(f"{upload.name} is larger than {limit // (1024 * 1024)} MB.")
    allowed = getattr(settings, "WAGTAILDOCS_EXTENSIONS", None)
    if allowed:
        try:
            FileExtensionValidator(allowed)(upload)  # the validator Wagtail's documents use for the same setting
        except ValidationError as error:
            raise PracticeRefused(f"{upload.name}: {' '.join(error.messages)}") from None


def check_attachments(attachments) -> None:
    """No more than ``MAX_ATTACHMENTS`` files, each passing the admin's checks for documents."""
    if len(attachments) > MAX_ATTACHMENTS:
        raise PracticeRefused(f"Attach at most {MAX_ATTACHMENTS} files.")
    for upload in attachments:
        check_attachment(upload)


def _unique_slug(parent: Page, title: str) -> str:
    base = slugify(title)[:70] or "submission"
    slug, number = base, 1
    while Page.objects.child_of(parent).filter(slug=slug).exists():
        number += 1
        slug = f"{base}-{number}"
    return slug


def _index_page(kind: str) -> Page:
    """The index the page goes under: the conference notes' or the articles', in the site's main language if
    there is one."""
    from portal.pages.models import ArticleIndexPage, ConferenceIndexPage

    index_model = ConferenceIndexPage if kind == PracticeSubmission.CONFERENCE else ArticleIndexPage
    parent = (index_model.objects.filter(locale__language_code=settings.LANGUAGE_CODE).first()
              or index_model.objects.first())
    if parent is None:
        raise PracticeRefused("The editors are not taking submissions of this kind at the moment.")
    return parent


def _store_attachments(attachments) -> list[dict]:
    """Save the files as documents in the submissions collection; their document blocks."""
    collection = submissions_collection()
    blocks = []
    for upload in attachments:
        document = get_document_model()(title=upload.name, file=upload, collection=collection)
        document.save()
        blocks.append({"type": "document", "value": {"document": document.pk, "title": document.title,
                                                     "description": ""}})
    return blocks


def _conference_notes(organisation, *, title: str, slug: str, summary: str, paragraphs: list, documents: list,
                      conference: dict | None) -> Page:
    from portal.pages.models import ConferenceNotesPage

    conference = conference or {}
    return ConferenceNotesPage(
        title=title, slug=slug, summary=summary, live=False, owner=None,
        event_name=conference["event_name"], start_date=conference["start_date"], end_date=conference["end_date"],
        city=conference["city"], country=conference["country"], organisers=conference["organisers"],
        body=paragraphs, attachments=documents,
    )


def _article(organisation, *, title: str, slug: str, summary: str, paragraphs: list, documents: list,
             conference: dict | None) -> Page:
    from portal.pages.models import ArticlePage

    return ArticlePage(
        title=title, slug=slug, summary=summary, live=False, owner=None, author_organisation=organisation.name,
        date=datetime.date.today(), body=paragraphs + documents,
    )


# The draft page each kind of submission becomes.
PAGE_BUILDERS = {PracticeSubmission.CONFERENCE: _conference_notes, PracticeSubmission.ARTICLE: _article}


def submit_practice(user, organisation, *, kind: str, title: str, summary: str, body: str, topics=(),
                    attachments=(), conference: dict | None = None) -> PracticeSubmission:
    """Create the draft page, its documents and the tracking row, and start the moderation workflow."""
    check_attachments(attachments)
    parent = _index_page(kind)
    with transaction.atomic():
        page = PAGE_BUILDERS.get(kind, _article)(
            organisation, title=title, slug=_unique_slug(parent, title), summary=summary,
            paragraphs=[{"type": "paragraph", "value": html} for html in paragraphs_html(body)],
            documents=_store_attachments(attachments), conference=conference)
        page.topics.set(topics)  # a parental relation: saved with the page
        parent.add_child(instance=page)
        revision = page.save_revision(user=user, log_action=True)
        workflow = page.get_workflow()
        if workflow is not None:
            workflow.start(page, user)
        submission = PracticeSubmission.objects.create(user=user, organisation=organisation, kind=kind, title=title,
                                                       page=page)
        log(page, "contributions.practice.submit", user=user,
            data={"organisation": organisation.name, "revision": revision.pk})
    return submission


@dataclass(frozen=True)
class PracticeState:
    label: str
    key: str
    comment: str = ""
    url: str = ""


# What the member is told for each state of the page's newest workflow run (any other: with the editors).
WORKFLOW_STATES = {
    WorkflowState.STATUS_IN_PROGRESS: PracticeState("Submitted, in review", "in-review"),
    WorkflowState.STATUS_APPROVED: PracticeState("Approved, to be published", "approved"),
}
WITH_THE_EDITORS = PracticeState("With the editors", "draft")


def state_of(submission: PracticeSubmission) -> PracticeState:
    """What the member sees: submitted, in review, returned with the moderator's comment, or published."""
    page = submission.page
    if page is None:
        return PracticeState("Withdrawn by the editors", "withdrawn")
    if page.live:
        return PracticeState("Published", "published", url=page.url or "")
    workflow_state = page.workflow_states.select_related("current_task_state").order_by("-created_at").first()
    if workflow_state is None:
        return WITH_THE_EDITORS
    if workflow_state.status == WorkflowState.STATUS_NEEDS_CHANGES:
        return _returned(workflow_state.current_task_state)
    return WORKFLOW_STATES.get(workflow_state.status, WITH_THE_EDITORS)


def _returned(task_state) -> PracticeState:
    """Returned for changes, with the moderator's comment on the task (if any)."""
    comment = task_state.comment if task_state else ""
    return PracticeState("Returned with a comment", "returned", comment=comment or "")
