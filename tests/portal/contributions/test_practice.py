"""Practice submissions: a member's article or conference notes becomes a draft page in the moderation workflow,
the member follows its state, attachments are screened and stay closed until published."""

from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from wagtail.documents import get_document_model
from wagtail.models import WorkflowState

import pytest

from portal.contributions.models import PracticeSubmission
from portal.pages.models import ArticlePage, ConferenceNotesPage
from tests.factories import TopicFactory, UserFactory
from tests.portal.contributions.factories import hotline, member_of_org

ARTICLE = {"kind": "article", "title": "Working with schools on reporting",
           "summary": "How a hotline trained teachers to report.",
           "body": "First paragraph <script>alert(1)</script>.\n\nSecond paragraph."}


@pytest.fixture
def member(db, client):
    user = member_of_org(hotline("Fictional Hotline"), first_name="Mia")
    client.force_login(user)
    return user


def moderator():
    return UserFactory(groups=[Group.objects.get(name="Moderators")])


def test_an_article_becomes_a_draft_page_in_moderation(client, member, article_index, committed):
    topic = TopicFactory(name="Prevention", slug="prevention")
    pdf = SimpleUploadedFile("lesson-plan.pdf", b"%PDF-1.4 lesson plan", content_type="application/pdf")
    response = committed(client.post, reverse("contributions:practice_new"),
                         {**ARTICLE, "topics": [topic.pk], "attachments": [pdf]})
    assert response.status_code == 302, response.content.decode()[:3000]
    page = ArticlePage.objects.get()
    assert not page.live and page.get_parent().pk == article_index.pk and page.owner is None
    assert page.author_organisation == "Fictional Hotline"
    assert list(page.topics.all()) == [topic]
    html = "".join(str(block.value) for block in page.body if block.block_type == "paragraph")
    assert "&lt;script&gt;" in html and "<script>" not in html
    state = page.workflow_states.get()
    assert state.status == WorkflowState.STATUS_IN_PROGRESS and state.requested_by == member
    document = get_document_model().objects.get()
    assert document.collection.name == "Practice submissions (unpublished)"

    # Closed to everyone but editors and moderators until published: the public and the member get no file.
    client.logout()
    assert client.get(document.url).status_code in {302, 403, 404}
    assert client.get(page.url or "/en/best-practices/working-with-schools-on-reporting/").status_code == 404

    client.force_login(member)
    listing = client.get(reverse("contributions:practice")).content.decode()
    assert "Working with schools on reporting" in listing and "Submitted, in review" in listing


def test_the_member_sees_a_return_with_the_comment_then_publication(client, member, article_index):
    client.post(reverse("contributions:practice_new"), ARTICLE)
    page = ArticlePage.objects.get()
    task_state = page.workflow_states.get().current_task_state
    reviewer = moderator()
    task_state.task.specific.on_action(task_state, reviewer, "reject", comment="Please name the school programme.")
    listing = client.get(reverse("contributions:practice")).content.decode()
    assert "Returned with a comment" in listing and "Please name the school programme." in listing

    page.save_revision(user=reviewer).publish()
    listing = client.get(reverse("contributions:practice")).content.decode()
    assert "Published" in listing and page.url in listing


def test_conference_notes_need_their_conference_fields(client, member, conference_index):
    response = client.post(reverse("contributions:practice_new"), {**ARTICLE, "kind": "conference"})
    assert response.status_code == 400
    assert "Needed for conference notes." in response.content.decode()
    response = client.post(reverse("contributions:practice_new"), {
        **ARTICLE, "kind": "conference", "event_name": "Network meeting", "start_date": "2026-05-04",
        "end_date": "2026-05-05", "city": "The Hague", "country": "NL", "organisers": "The secretariat"})
    assert response.status_code == 302
    assert ConferenceNotesPage.objects.get().event_name == "Network meeting"


def test_attachments_are_screened_like_admin_documents(client, member, article_index):
    exe = SimpleUploadedFile("tool.exe", b"MZ binary", content_type="application/octet-stream")
    response = client.post(reverse("contributions:practice_new"), {**ARTICLE, "attachments": [exe]})
    assert response.status_code == 400
    assert "tool.exe" in response.content.decode()
    assert not ArticlePage.objects.exists() and not get_document_model().objects.exists()
    assert not PracticeSubmission.objects.exists()


def test_missing_fields_are_named_and_nothing_is_created(client, member, article_index):
    response = client.post(reverse("contributions:practice_new"), {"kind": "article", "title": ""})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not ArticlePage.objects.exists()


def test_only_members_of_an_active_organisation_submit(client, db, article_index):
    client.force_login(UserFactory())
    assert client.get(reverse("contributions:practice_new")).status_code == 403
    client.logout()
    assert client.get(reverse("contributions:practice_new")).status_code == 302  # to sign in


def test_members_see_only_their_own_submissions(client, member, article_index):
    client.post(reverse("contributions:practice_new"), ARTICLE, follow=True)
    other = member_of_org(hotline("Other Hotline"))
    client.force_login(other)
    assert "Working with schools" not in client.get(reverse("contributions:practice")).content.decode()


def test_the_newsletter_call_to_action_leads_to_the_form(settings):
    from portal.demo.newsletter import practice_form_url

    settings.SITE_URL = "https://portal.example"
    assert practice_form_url() == "https://portal.example/members/contributions/practice/new/"
