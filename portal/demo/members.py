"""Demo content for members: organisations, one demo member per sector, restricted pages and a private document.

``seed(stdout)`` is idempotent: organisations are looked up by name, users by username, pages by slug under
their parent and the document by title; anything that exists is left as it is (a demo member's password is
never reset). Organisations are fictional and described by role and country. Run after portal.demo.pages,
which creates the sectors, topics and the home page.
"""

from __future__ import annotations

import datetime
import json

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile

from wagtail.documents import get_document_model
from wagtail.models import Collection, Page, PageViewRestriction

from portal.core.models import Sector, Topic
from portal.members.models import Membership, Organisation
from portal.pages.models import ArticleIndexPage, ArticlePage, HomePage, StandardPage

DEMO_PASSWORD = "demo-member-2015"  # noqa: S105 - a published demo credential; seed_demo refuses production

ORGANISATIONS = {
    "hotline": [("Northern Lights Hotline", "NO", "2008-05-01"), ("Tagus Reporting Hotline", "PT", "2012-03-15")],
    "ngo": [("Safe Childhood Foundation", "NL", "2010-09-01"), ("Helpline for Young People", "IE", "2014-01-20")],
    "industry": [("Example Hosting Cooperative", "DE", "2013-06-10"), ("Registry Services Europe", "BE", "2016-02-01")],
    "law-enforcement": [("National Police Cybercrime Unit", "NL", "2011-11-01"),
                        ("Federal Online Child Protection Desk", "AT", "2015-04-01")],
    "government": [("Ministry of Justice Online Safety Office", "FI", "2012-10-01"),
                   ("Department for Digital Child Protection", "MT", "2017-07-01")],
}

MEMBERS_PAGE_SLUG = "members-updates"
POLICE_ARTICLE_SLUG = "deconfliction-with-police-operational-notes"
PRIVATE_DOCUMENT_TITLE = "Network meeting minutes, spring (members only)"


def _paragraphs(*texts: str) -> str:
    return json.dumps([{"type": "paragraph", "value": f"<p>{text}</p>"} for text in texts])


def seed(stdout) -> None:
    """Create the members demo content if missing and print the demo members' credentials."""
    sectors = {sector.slug: sector for sector in Sector.objects.all()}
    missing = set(ORGANISATIONS) - set(sectors)
    if missing:
        stdout.write(f"  sectors missing ({', '.join(sorted(missing))}): run portal.demo.pages first; skipped\n")
        return
    first_organisations = _organisations(sectors, stdout)
    credentials = [_demo_member(slug, organisation, sectors[slug])
                   for slug, organisation in first_organisations.items()]
    home = HomePage.objects.first()
    if home is None:
        stdout.write("  no home page: restricted demo pages skipped\n")
    else:
        _members_page(home, stdout)
        _police_article(home, stdout)
    _private_document(stdout)
    _print_sign_in(credentials, stdout)


def _organisations(sectors: dict, stdout) -> dict:
    """Create the demo organisations that are missing; the first organisation of each sector, by sector slug."""
    first_organisations = {}
    for slug, organisations in ORGANISATIONS.items():
        for name, country, since in organisations:
            organisation, created = Organisation.objects.get_or_create(
                name=name,
                defaults={"sector": sectors[slug], "country": country, "website": "",
                          "member_since": datetime.date.fromisoformat(since)},
            )
            if created:
                stdout.write(f"  created organisation {name!r} ({sectors[slug].name})\n")
            first_organisations.setdefault(slug, organisation)
    return first_organisations


def _demo_member(slug: str, organisation: Organisation, sector: Sector) -> tuple[str, str]:
    """The demo member of a sector's first organisation (created if missing; an existing password is kept):
    its username and organisation's name."""
    username = f"demo-{slug}"
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        user = get_user_model().objects.create_user(
            username=username, email=f"{username}@example.org", password=DEMO_PASSWORD,
            first_name="Demo", last_name=sector.name,
        )
    Membership.objects.get_or_create(user=user, defaults={"organisation": organisation})
    return username, organisation.name


def _print_sign_in(credentials: list[tuple[str, str]], stdout) -> None:
    """How the demo members sign in: usernames, the shared password, the login address."""
    stdout.write(f"  demo members (password for each: {DEMO_PASSWORD}):\n")
    for username, organisation in credentials:
        stdout.write(f"    {username:<22} {organisation}\n")
    stdout.write(f"  members sign in at {settings.SITE_URL}/members/login/\n")
    if settings.PRIVACY_SECOND_FACTOR_GROUPS:
        groups = ", ".join(settings.PRIVACY_SECOND_FACTOR_GROUPS)
        stdout.write(f"  members of {groups} set up an authenticator app (TOTP) before restricted pages open\n")


def _publish_child(parent: Page, page: Page, stdout, readers: str) -> Page:
    parent.add_child(instance=page)
    page.save_revision().publish()
    # The address a reader opens (``/en/members-updates/``), not the page's internal tree path (``/home/...``).
    stdout.write(f"  created {page._meta.verbose_name} {page.title!r} at {page.get_url() or page.url_path}"
                 f" ({readers} only)\n")
    return page


def _members_page(home: HomePage, stdout) -> None:
    """A standard page every member can read (login restriction)."""
    page = home.get_children().filter(slug=MEMBERS_PAGE_SLUG).first()
    if page is None:
        page = _publish_child(home, StandardPage(
            title="Members' updates",
            slug=MEMBERS_PAGE_SLUG,
            intro="News for member organisations only: meetings, working groups and shared figures.",
            body=_paragraphs(
                "The spring network meeting agreed a shared template for reporting takedown times, "
                "so that hotline statistics can be compared across countries from next year.",
                "Working group on analyst wellbeing: 14 hotlines now offer mandatory counselling sessions; "
                "the group will publish a members-only checklist next quarter.",
                "Minutes of the meeting are in the members' document library.",
            ),
            show_in_menus=True,
        ), stdout, "members")
    if not PageViewRestriction.objects.filter(page=page).exists():
        PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.LOGIN)


def _police_article(home: HomePage, stdout) -> None:
    """A best-practice article only law enforcement can read (group restriction)."""
    parent = ArticleIndexPage.objects.child_of(home).first() or home
    if not isinstance(parent.specific, ArticleIndexPage):
        stdout.write("  no best-practice index: law-enforcement article skipped\n")
        return
    page = parent.get_children().filter(slug=POLICE_ARTICLE_SLUG).first()
    if page is None:
        article = ArticlePage(
            title="Deconfliction with police: operational notes",
            slug=POLICE_ARTICLE_SLUG,
            summary="How hotlines and police units agree which reports to hold back while an investigation runs.",
            author_organisation="A national police cybercrime unit",
            date=datetime.date(2015, 3, 2),
            body=_paragraphs(
                "Before issuing a notice, the hotline checks the shared deconfliction list; in 2014 this held "
                "back 3% of notices for an average of 6 days.",
                "Contacts: each unit names a duty officer reachable within 4 working hours.",
            ),
        )
        # The first by name of each (as .first()), or none when the demo taxonomy lacks it.
        article.sectors = list(Sector.objects.filter(slug="law-enforcement")[:1])
        article.topics = list(Topic.objects.filter(slug="law-enforcement-cooperation")[:1])
        page = _publish_child(parent, article, stdout, "law enforcement")
    if not PageViewRestriction.objects.filter(page=page).exists():
        restriction = PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.GROUPS)
        restriction.groups.set(Group.objects.filter(name="Law enforcement"))


def _private_document(stdout) -> None:
    """A text document in the members-only collection (served only through Wagtail's document view)."""
    collection = Collection.objects.filter(name=settings.MEMBERS_DOCUMENTS_COLLECTION).first()
    if collection is None:
        stdout.write("  members' document collection missing: private document skipped\n")
        return
    document_model = get_document_model()
    if document_model.objects.filter(title=PRIVATE_DOCUMENT_TITLE).exists():
        return
    text = (
        "Network meeting minutes (members only)\n\n"
        "Attendance: 31 member organisations from 24 countries.\n"
        "1. Shared statistics template adopted; first joint figures due next spring.\n"
        "2. Analyst wellbeing working group: 14 hotlines offer mandatory counselling.\n"
        "3. Next meeting: autumn, hosted by a member hotline.\n"
    )
    document_model.objects.create(
        title=PRIVATE_DOCUMENT_TITLE, collection=collection,
        file=ContentFile(text.encode(), name="network-meeting-minutes.txt"),
    )
    stdout.write(f"  created private document {PRIVATE_DOCUMENT_TITLE!r} in {collection.name!r}\n")
