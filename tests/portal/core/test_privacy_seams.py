"""The seams between features where restricted content used to leak (issue 16's reproductions 1-5, and the
copies and images of issue 17), each as a regression test: every one of them failed on the code before the
effective-restriction rule (``portal.core.privacy``).

Each test looks as an outsider would: an anonymous visitor or a member of another sector, on the page itself,
on the API, in search and in the sitemap, in another language, through an alias or a copy.
"""

import json

from django.contrib.auth.models import Group
from django.core.files.base import ContentFile

from wagtail.images import get_image_model
from wagtail.images.tests.utils import get_test_image_file
from wagtail.models import Collection, CollectionViewRestriction, Locale, Page, PageViewRestriction

import pytest

from newsletter.models import Audience
from newsletter.services import rendering
from portal.core import privacy
from tests.factories import ArticleIndexPageFactory, ArticlePageFactory, StandardPageFactory, paragraph, translate
from tests.newsletter.issue_factories import NewsletterIndexPageFactory, featured, make_issue
from tests.portal.members.factories import member_of, sector

pytestmark = pytest.mark.django_db

SECRET = "Quarrystone"  # a word only restricted content carries


def law_enforcement() -> Group:
    return Group.objects.get(name="Law enforcement")


def restrict(page, *, groups=None) -> PageViewRestriction:
    if groups is None:
        return PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.LOGIN)
    restriction = PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.GROUPS)
    restriction.groups.set(groups)
    return restriction


def shut_for_anonymous(client, page) -> None:
    """The page is closed to an anonymous visitor on every channel that lists or serves pages."""
    page = Page.objects.get(pk=page.pk)
    response = client.get(page.url)
    assert response.status_code == 302 and "login" in response["Location"], (page.url, response.status_code)
    assert client.get(f"/api/v2/pages/{page.pk}/").status_code == 404
    listed = client.get("/api/v2/pages/", {"limit": 100}).json()["items"]
    assert page.pk not in [item["id"] for item in listed]
    assert page.url not in client.get("/sitemap.xml").content.decode()
    assert not privacy.can_view(page, privacy.Viewer.anonymous())


@pytest.fixture
def french(home):
    Locale.objects.get_or_create(language_code="fr")
    return translate(home, "fr", title="Réseau")


# --- 1. Publishing a translation never removes a restriction -------------------------------------------------

def test_publishing_a_localize_translation_keeps_a_sector_issue_closed(client, home, french, committed):
    from wagtail_localize.models import TranslationSource

    archive = NewsletterIndexPageFactory(parent=home)
    issue = make_issue(archive, title=f"{SECRET} issue", subject=f"{SECRET} issue")
    fr_archive = translate(archive, "fr")
    source, _created = TranslationSource.get_or_create_from_instance(issue)
    translation = source.translations.model.objects.create(
        source=source, target_locale=Locale.objects.get(language_code="fr"))
    committed(translation.save_target, publish=True)  # wagtail-localize publishes on commit
    fr_issue = Page.objects.get(translation_key=issue.translation_key, locale__language_code="fr")
    assert fr_issue.get_parent().pk == fr_archive.pk

    # An editor narrows the English issue to the Law enforcement sector and publishes it.
    issue.audience = Audience.SECTORS
    issue.audience_sectors = [sector("law-enforcement")]
    issue.save_revision().publish()
    # Then the French translation is published again, as wagtail-localize does after any edit.
    source.update_from_db()
    committed(translation.save_target, publish=True)

    for version in (issue, fr_issue):
        shut_for_anonymous(client, version)
    assert SECRET not in client.get("/en/search/", {"q": "issue"}).content.decode()
    police = member_of("law-enforcement")
    client.force_login(police)
    assert client.get(Page.objects.get(pk=fr_issue.pk).url).status_code == 200


def test_a_translation_cannot_widen_a_members_only_issue(client, home, french):
    archive = NewsletterIndexPageFactory(parent=home)
    issue = make_issue(archive, audience=Audience.MEMBERS)
    translate(archive, "fr")
    fr_issue = translate(issue, "fr", title="Numéro")
    fr_issue.audience = Audience.PUBLIC  # the translation's own audience field never counts
    fr_issue.save_revision().publish()
    for version in (issue, fr_issue):
        shut_for_anonymous(client, version)


# --- 2. A moved page's translations follow it -----------------------------------------------------------------

def test_moving_a_page_into_a_sector_section_closes_its_translations(client, home, french):
    index = ArticleIndexPageFactory(parent=home, slug="practice")
    page = ArticlePageFactory(parent=index, slug="x", summary=SECRET)
    translate(index, "fr")
    fr_page = translate(page, "fr", slug="x-fr")
    assert client.get(Page.objects.get(pk=fr_page.pk).url).status_code == 200
    section = StandardPageFactory(parent=home, slug="police-only")
    restrict(section, groups=[law_enforcement()])
    page.move(section, pos="last-child")
    shut_for_anonymous(client, fr_page)
    client.force_login(member_of("hotline"))
    assert client.get(Page.objects.get(pk=fr_page.pk).url).status_code == 302


# --- 3. An alias of a page inside a restricted section ------------------------------------------------------

def test_an_alias_of_a_page_in_a_restricted_section_is_closed_everywhere(client, home):
    section = StandardPageFactory(parent=home, slug="members-area")
    restrict(section)
    source = ArticlePageFactory(parent=section, slug="briefing", title=f"{SECRET} briefing", summary=SECRET)
    public_index = ArticleIndexPageFactory(parent=home, slug="practice")
    alias = source.create_alias(parent=public_index, update_slug="briefing-alias")
    shut_for_anonymous(client, alias)
    assert SECRET not in client.get("/en/search/", {"q": "briefing"}).content.decode()
    assert SECRET not in client.get(Page.objects.get(pk=public_index.pk).url).content.decode()
    # An alias of that alias too (the rule is applied until nothing new is covered).
    second = Page.objects.get(pk=alias.pk).specific.create_alias(parent=home, update_slug="briefing-again")
    shut_for_anonymous(client, second)
    client.force_login(member_of("hotline"))
    assert client.get(Page.objects.get(pk=second.pk).url).status_code == 200


# --- 4. Archive pages and emails check references when they render -------------------------------------------

def test_a_public_issue_stops_showing_an_article_restricted_after_it_was_sent(client, home):
    index = ArticleIndexPageFactory(parent=home, slug="practice")
    article = ArticlePageFactory(parent=index, slug="takedown", title=f"{SECRET} takedown", summary=f"{SECRET}.")
    archive = NewsletterIndexPageFactory(parent=home)
    call = {"type": "call_to_action", "value": {"text": "Read it", "page": article.pk, "url": "",
                                                 "button_label": "Open"}}
    issue = make_issue(archive, blocks=[featured(article), call])
    assert article.url in client.get(issue.url).content.decode()

    restrict(article, groups=[law_enforcement()])
    archive_page = client.get(issue.url).content.decode()
    assert SECRET not in archive_page and article.url not in archive_page
    email = rendering.render_issue(Page.objects.get(pk=issue.pk).specific)
    assert SECRET not in email.html and "takedown" not in email.html

    client.force_login(member_of("law-enforcement"))
    assert article.url in client.get(issue.url).content.decode()  # the reader who may open it still sees it


# --- 5. Rich-text links to restricted pages and documents ----------------------------------------------------

def test_rich_text_links_to_restricted_pages_and_documents_are_plain_text_for_outsiders(client, home, settings,
                                                                                          tmp_path):
    from wagtail.documents import get_document_model

    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    index = ArticleIndexPageFactory(parent=home, slug="practice")
    secret_page = ArticlePageFactory(parent=index, slug=SECRET.lower(), title="Closed")
    restrict(secret_page, groups=[law_enforcement()])
    collection = Collection.get_first_root_node().add_child(name="Police files")
    CollectionViewRestriction.objects.create(collection=collection, restriction_type="groups").groups.set(
        [law_enforcement()])
    document = get_document_model().objects.create(
        title="Dossier", collection=collection, file=ContentFile(b"operational", name=f"{SECRET.lower()}-plan.txt"))
    body = paragraph(
        f'See <a linktype="page" id="{secret_page.pk}">the briefing</a> and '
        f'<a linktype="document" id="{document.pk}">the plan</a>.')
    public = ArticlePageFactory(parent=index, slug="open", body=body)

    html = client.get(public.url).content.decode()
    assert "the briefing" in html and "the plan" in html  # the words stay, as plain text
    assert SECRET.lower() not in html.lower() and f"/documents/{document.pk}/" not in html

    client.force_login(member_of("law-enforcement"))
    html = client.get(public.url).content.decode()
    assert secret_page.url in html and f"/documents/{document.pk}/" in html


# --- Copies (issue 17, 2) -------------------------------------------------------------------------------------

def test_copying_a_sector_page_into_a_members_section_keeps_the_sector_restriction(client, home):
    police_page = ArticlePageFactory(parent=ArticleIndexPageFactory(parent=home, slug="practice"),
                                     slug="raid-notes", summary=SECRET)
    restrict(police_page, groups=[law_enforcement()])
    members_section = StandardPageFactory(parent=home, slug="members-area")
    restrict(members_section)
    copy = police_page.copy(to=members_section, update_attrs={"slug": "raid-notes-copy"}, keep_live=True)
    client.force_login(member_of("hotline"))
    assert client.get(Page.objects.get(pk=copy.pk).url).status_code == 302
    client.force_login(member_of("law-enforcement"))
    assert client.get(Page.objects.get(pk=copy.pk).url).status_code == 200


def test_copying_from_a_members_section_to_a_public_one_stays_members_only(client, home):
    members_section = StandardPageFactory(parent=home, slug="members-area")
    restrict(members_section)
    child = ArticlePageFactory(parent=members_section, slug="briefing", summary=SECRET)
    public_index = ArticleIndexPageFactory(parent=home, slug="practice")
    copy = child.copy(to=public_index, update_attrs={"slug": "briefing-copy"}, keep_live=True)
    shut_for_anonymous(client, copy)
    assert SECRET not in client.get("/en/feeds/latest/rss/").content.decode()


def test_copying_a_public_section_keeps_the_restriction_of_a_child_inside_it(client, home):
    section = StandardPageFactory(parent=home, slug="section")
    ArticlePageFactory(parent=section, slug="open", summary="Open")
    closed = ArticlePageFactory(parent=section, slug="closed", summary=SECRET)
    restrict(closed, groups=[law_enforcement()])
    section.copy(to=home, update_attrs={"slug": "section-copy"}, recursive=True, keep_live=True)
    copied = Page.objects.get(slug="closed", path__startswith=Page.objects.get(slug="section-copy").path)
    shut_for_anonymous(client, copied)
    copied_open = Page.objects.get(slug="open", path__startswith=Page.objects.get(slug="section-copy").path)
    assert client.get(copied_open.url).status_code == 200


# --- Images (issue 17, 3) -------------------------------------------------------------------------------------

@pytest.fixture
def police_image(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    collection = Collection.get_first_root_node().add_child(name="Police images")
    CollectionViewRestriction.objects.create(collection=collection, restriction_type="groups").groups.set(
        [law_enforcement()])
    return get_image_model().objects.create(title=f"{SECRET} diagram", collection=collection,
                                            file=get_test_image_file())


def test_images_in_a_restricted_collection_are_served_only_to_those_who_may_open_it(client, police_image):
    rendition = police_image.get_rendition("width-100")
    for url in (police_image.file.url, rendition.url):
        assert url.startswith("/media/")
        assert client.get(url).status_code == 404, url
    client.force_login(member_of("hotline"))
    assert client.get(rendition.url).status_code == 404
    client.force_login(member_of("law-enforcement"))
    for url in (police_image.file.url, rendition.url):
        response = client.get(url)
        assert response.status_code == 200 and "private" in response["Cache-Control"]


def test_a_public_page_never_shows_a_restricted_share_image(client, home, police_image):
    page = ArticlePageFactory(parent=ArticleIndexPageFactory(parent=home, slug="practice"), slug="open",
                              social_image=police_image)
    rendition_path = police_image.get_rendition("fill-1200x630").url
    html = client.get(page.url).content.decode()
    # Not in the Open Graph tags, the article's JSON-LD or the page itself (the share image shown to readers).
    assert "og:image" not in html and SECRET not in html
    assert rendition_path not in html and "/media/" not in html and "article__image" not in html
    assert '"image"' not in html

    # Someone who may open the image sees it in all three (the render is theirs alone).
    client.force_login(member_of("law-enforcement"))
    html = client.get(page.url).content.decode()
    assert rendition_path in html and 'property="og:image"' in html and "article__image" in html


@pytest.fixture
def urls_built_with_debug(settings):
    """The URL configuration as the demo builds it (DEBUG on), restored afterwards."""
    import importlib

    from django.urls import clear_url_caches

    import portal.urls

    settings.DEBUG = True
    importlib.reload(portal.urls)
    clear_url_caches()
    yield
    settings.DEBUG = False
    importlib.reload(portal.urls)
    clear_url_caches()


def test_the_demo_with_debug_on_does_not_serve_media_raw(client, police_image, urls_built_with_debug):
    assert client.get(police_image.file.url).status_code == 404
    assert client.get(police_image.get_rendition("width-80").url).status_code == 404


def test_the_image_chooser_offers_only_images_every_reader_of_the_page_may_open(client, home, police_image):
    from django.contrib.auth import get_user_model

    public_page = ArticlePageFactory(parent=ArticleIndexPageFactory(parent=home, slug="practice"), slug="open")
    police_page = StandardPageFactory(parent=home, slug="police-only")
    restrict(police_page, groups=[law_enforcement()])
    client.force_login(get_user_model().objects.create_superuser("editor", "editor@example.org", "x"))

    def offered(referer: str) -> bool:
        response = client.get("/admin/images/chooser/", headers={"referer": referer})
        assert response.status_code == 200
        return police_image.title in json.loads(response.content)["html"]

    assert not offered(f"http://testserver/admin/pages/{public_page.pk}/edit/")
    assert not offered(f"http://testserver/admin/pages/add/pages/articlepage/{home.pk}/")
    assert offered(f"http://testserver/admin/pages/{police_page.pk}/edit/")
    assert offered(f"http://testserver/admin/pages/add/pages/standardpage/{police_page.pk}/")
