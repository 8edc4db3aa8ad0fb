"""Roles and the moderation workflow: an editor's submission goes live only when a moderator approves it."""

from django.contrib.auth.models import Group
from django.urls import reverse

from wagtail.models import Page, PageLogEntry, Workflow, WorkflowState
from wagtail.test.utils.form_data import nested_form_data, streamfield

from portal.pages.models import StandardPage
from tests.factories import UserFactory


def user_in(group_name, **kwargs):
    return UserFactory(groups=[Group.objects.get(name=group_name)], **kwargs)


def test_moderator_approval_workflow_covers_every_page(home):
    workflow = home.get_workflow()
    assert workflow is not None and workflow.name == "Moderator approval"
    task = workflow.tasks.get().specific
    assert list(task.groups.values_list("name", flat=True)) == ["Moderators"]
    assert Workflow.objects.filter(active=True).count() == 1


def test_editor_submission_waits_for_moderator_approval(client, home):
    editor = user_in("Editors")
    moderator = user_in("Moderators")
    client.force_login(editor)

    add_url = reverse("wagtailadmin_pages:add", args=["pages", "standardpage", home.pk])
    data = nested_form_data({
        "title": "Hotline response times 2025",
        "slug": "response-times",
        "intro": "How fast member hotlines act.",
        "body": streamfield([]),
        "listing_summary": "",
        "action-submit": "Submit for moderation",
    })
    response = client.post(add_url, data)
    assert response.status_code == 302, response.content.decode()[:2000]

    page = StandardPage.objects.get(slug="response-times")
    assert not page.live
    state = WorkflowState.objects.get(base_content_type__isnull=False, object_id=str(page.pk))
    assert state.status == WorkflowState.STATUS_IN_PROGRESS
    assert client.get("/en/response-times/").status_code == 404

    # The editor cannot publish, nor approve their own submission.
    assert not page.permissions_for_user(editor).can_publish()
    task_state = state.current_task_state
    action_url = reverse("wagtailadmin_pages:workflow_action", args=[page.pk, "approve", task_state.pk])
    client.post(action_url, {})
    page.refresh_from_db()
    assert not page.live

    client.force_login(moderator)
    response = client.post(action_url, {})
    assert response.status_code in (200, 302)
    page.refresh_from_db()
    assert page.live
    state.refresh_from_db()
    assert state.status == WorkflowState.STATUS_APPROVED
    client.logout()
    assert "Hotline response times 2025" in client.get("/en/response-times/").content.decode()
    assert PageLogEntry.objects.filter(page=page, action="wagtail.workflow.approve", user=moderator).exists()


def test_moderator_can_publish_and_editor_cannot(home):
    editor, moderator = user_in("Editors"), user_in("Moderators")
    page = Page.objects.get(pk=home.pk)
    assert page.permissions_for_user(moderator).can_publish()
    assert not page.permissions_for_user(editor).can_publish()
    assert page.permissions_for_user(editor).can_add_subpage()
