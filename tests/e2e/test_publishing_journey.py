"""An editor writes and submits an article in the Wagtail admin; a moderator approves it; the public sees it."""

import re

from django.contrib.auth.models import Group
from django.urls import reverse

from wagtail.models import Locale

from playwright.sync_api import expect

from portal.pages.models import ArticleIndexPage, ArticlePage
from tests.e2e.conftest import fresh_page
from tests.factories import UserFactory

PASSWORD = "correct-horse-battery"  # UserFactory's
TITLE = "Hash matching across hotlines: a shared list that works"
SUMMARY = "How member hotlines share hashes of confirmed material so the same image is assessed only once."


def admin_log_in(page, site, username: str) -> None:
    page.goto(site.absolute(reverse("wagtailadmin_login")))
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    expect(page.get_by_role("heading", level=1).first).to_be_visible()


def open_more_actions(page) -> None:
    """Open the page editor's footer menu (the arrow beside the main button)."""
    page.locator("footer").get_by_role("button", name="More actions").click()


def test_editor_submits_moderator_approves_and_it_goes_live(site, page, new_context, settings):
    # Autosave (every 500 ms) can create the page just before the click on "Submit" posts the same new page
    # again, which then fails on its taken slug; a person is slower than that, the test is not.
    settings.WAGTAIL_AUTOSAVE_INTERVAL = 0
    editor = UserFactory(username="eddie-editor", first_name="Eddie", groups=[Group.objects.get(name="Editors")])
    moderator = UserFactory(username="mona-moderator", first_name="Mona",
                            groups=[Group.objects.get(name="Moderators")])
    index = ArticleIndexPage.objects.get(locale=Locale.get_default())  # the demo also has translations

    # The editor writes the article.
    admin_log_in(page, site, editor.username)
    page.goto(site.absolute(reverse("wagtailadmin_explore", args=[index.pk])))
    page.get_by_role("link", name=re.compile("Add child page", re.I)).first.click()
    page.locator("#id_title").fill(TITLE)
    page.locator("#id_summary").fill(SUMMARY)
    page.locator("#id_author_organisation").fill("Member hotline, Finland")
    page.get_by_role("button", name="Insert a block").first.click()
    text_block = page.get_by_role("option", name="Text", exact=True)
    picker = text_block.or_(page.get_by_role("button", name="Text", exact=True))
    picker.first.click()
    editor_box = page.locator(".Draftail-Editor [contenteditable=true]").first
    expect(editor_box).to_be_visible()
    editor_box.click()
    page.keyboard.type("A shared hash list lets every hotline recognise known material at once.")
    expect(editor_box).to_contain_text("recognise known material")
    # The rich-text editor copies its content into the form a moment later (debounced); wait for that.
    expect(page.locator("input[name='body-0-value']")).to_have_value(re.compile("recognise known material"))
    open_more_actions(page)
    page.get_by_role("button", name=re.compile("Submit to Moderator approval")).click()
    expect(page.get_by_role("status").first).to_contain_text(f"Page '{TITLE}' created and submitted for moderation")
    article = ArticlePage.objects.get(title=TITLE)
    assert not article.live

    # Not on the site yet.
    visitor = fresh_page(new_context)
    visitor.goto(site.absolute(index.get_url()))
    expect(visitor.get_by_role("main")).not_to_contain_text(TITLE)

    # The moderator sees it waiting and approves it.
    moderation = fresh_page(new_context)
    admin_log_in(moderation, site, moderator.username)
    expect(moderation.get_by_role("main")).to_contain_text(TITLE)
    moderation.goto(site.absolute(reverse("wagtailadmin_pages:edit", args=[article.pk])))
    # The moderator reads the draft (and the editor's scripts have loaded it) before approving.
    expect(moderation.locator(".Draftail-Editor [contenteditable=true]").first).to_contain_text(
        "recognise known material")
    approve = moderation.locator(
        "footer button[data-workflow-action-name=approve]:not([data-workflow-action-modal-url])")
    if not approve.is_visible():
        open_more_actions(moderation)
    expect(approve).to_have_text(re.compile(r"Approve and Publish"))
    approve.click()
    expect(moderation.get_by_role("status").first).to_contain_text(f"Page '{TITLE}' has been updated")
    article.refresh_from_db()
    assert article.live

    # Now the public sees it on the index and in the feed.
    visitor.goto(site.absolute(index.get_url()))
    visitor.get_by_role("main").get_by_role("link", name=TITLE).click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(visitor.get_by_role("main")).to_contain_text("A shared hash list lets every hotline recognise known")
    feed_link = visitor.get_by_role("contentinfo").get_by_role("link", name="RSS feed")
    feed = visitor.request.get(site.absolute(feed_link.get_attribute("href")))
    assert feed.ok
    assert TITLE in feed.text()


def test_a_failed_publish_shows_the_error_and_never_saved(site, page):
    """Issue 20, point 13: after a refused publish the editor's header must not say "Saved" beside the error
    (with autosave on, as editors have it), and the error names the field."""
    page.goto(site.absolute(reverse("wagtailadmin_login")))
    page.locator("#id_username").fill("editor")
    page.locator("#id_password").fill("demo-editor-2015")
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    expect(page.get_by_role("heading", level=1).first).to_be_visible()
    article = ArticlePage.objects.live().filter(locale=Locale.get_default()).first()
    page.goto(site.absolute(reverse("wagtailadmin_pages:edit", args=[article.pk])))
    page.locator("#id_title").fill("")
    open_more_actions(page)
    page.locator("footer").get_by_role("button", name=re.compile("^Publish$")).click()

    expect(page.get_by_text("The page could not be saved due to validation errors.")).to_be_visible()
    expect(page.get_by_text("This field is required.").first).to_be_visible()
    assert not page.locator(".w-autosave-indicator__state--saved").first.is_visible()
    shown = page.evaluate("document.body.innerText")  # only what is rendered, hidden states left out
    assert not re.search(r"^\s*Saved\s*$", shown, re.M), "the header says Saved after a refused publish"
    article.refresh_from_db()
    assert article.title  # nothing was saved
