"""Members of chosen groups (default: the Law enforcement sector) read restricted content only after a second
factor, and administrators can reset a lost one (issue 16, Build 4).

Until the TOTP check in this session, the privacy gate treats them as anonymous for restricted content: opening
a restricted page or document sends them to the second-factor step, and listings, search and the API hide it.
"""

from urllib.parse import parse_qs, urlsplit

from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.urls import reverse

from wagtail.documents import get_document_model
from wagtail.models import Collection, CollectionViewRestriction, ModelLogEntry, PageViewRestriction

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.core.privacy import Viewer
from tests.factories import StandardPageFactory, UserFactory, paragraph
from tests.portal.members.factories import member_of

WORD = "Quartzsecondfactor"


@pytest.fixture(autouse=True)
def second_factor_for_police(settings):
    settings.PRIVACY_SECOND_FACTOR_GROUPS = ["Law enforcement"]
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


@pytest.fixture
def police_page(home):
    page = StandardPageFactory(parent=home, title=f"Page {WORD}", slug="police-only", body=paragraph(WORD))
    restriction = PageViewRestriction.objects.create(page=page, restriction_type=PageViewRestriction.GROUPS)
    restriction.groups.set([Group.objects.get(name="Law enforcement")])
    return page


def code(device) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def test_the_default_is_the_law_enforcement_group():
    from portal.settings import base

    assert base.PRIVACY_SECOND_FACTOR_GROUPS == ["Law enforcement"]


def test_an_officer_without_a_second_factor_is_sent_to_set_one_up_then_reads_the_page(client, police_page, committed,
                                                                                      mailoutbox):
    officer = member_of("law-enforcement")
    client.force_login(officer)

    response = client.get(police_page.url)
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == reverse("members:two_factor_setup")
    assert parse_qs(location.query)["next"] == [police_page.url]
    assert WORD not in client.get(reverse("members:dashboard")).content.decode()

    setup = client.get(response["Location"])
    assert setup.status_code == 200 and "Set up two-factor authentication" in setup.content.decode()
    device = TOTPDevice.objects.get(user=officer)
    wrong = client.post(response["Location"], {"token": "000000" if code(device) != "000000" else "111111",
                                               "next": police_page.url})
    assert wrong.status_code == 200 and "did not match" in wrong.content.decode()
    done = committed(client.post, response["Location"], {"token": code(device), "next": police_page.url})
    assert done.status_code == 302 and done["Location"] == police_page.url
    # The owner is told, in case it was someone who knew only the password.
    assert [message.to for message in mailoutbox] == [[officer.email]]
    assert "authenticator app was just set up" in mailoutbox[0].body
    assert WORD in client.get(police_page.url).content.decode()


def test_an_officer_with_a_device_enters_a_code_in_each_new_session(client, police_page):
    officer = member_of("law-enforcement")
    device = TOTPDevice.objects.create(user=officer, name="phone", confirmed=True)
    client.force_login(officer)
    response = client.get(police_page.url)
    assert urlsplit(response["Location"]).path == reverse("members:two_factor_verify")
    client.post(response["Location"], {"token": code(device), "next": police_page.url})
    assert WORD in client.get(police_page.url).content.decode()
    # Verified, the same channels that hid it show it.
    assert police_page.url in client.get("/en/search/", {"q": WORD}).content.decode()
    api = client.get("/api/v2/pages/", {"type": "pages.StandardPage"}).json()
    assert police_page.id in [item["id"] for item in api["items"]]


def test_unverified_officers_are_anonymous_on_every_channel(client, police_page):
    officer = member_of("law-enforcement")
    client.force_login(officer)
    assert police_page.url not in client.get("/en/search/", {"q": WORD}).content.decode()
    api = client.get("/api/v2/pages/", {"type": "pages.StandardPage"}).json()
    assert police_page.id not in [item["id"] for item in api["items"]]
    assert client.get(f"/api/v2/pages/{police_page.id}/").status_code == 404
    assert Viewer.for_user(officer) == Viewer.anonymous()  # a user outside a request is not verified either
    assert "Set up or enter your authentication code" in client.get(reverse("members:dashboard")).content.decode()


def test_other_sectors_and_public_pages_are_not_affected(client, home, police_page):
    public = StandardPageFactory(parent=home, title="Open page", slug="open", body=paragraph("Openword"))
    hotline = member_of("hotline")
    members_page = StandardPageFactory(parent=home, title="Members", slug="members-x", body=paragraph("Memberword"))
    PageViewRestriction.objects.create(page=members_page, restriction_type=PageViewRestriction.LOGIN)
    client.force_login(hotline)
    assert "Memberword" in client.get(members_page.url).content.decode()
    client.force_login(member_of("law-enforcement"))
    assert "Openword" in client.get(public.url).content.decode()
    # Even the members-only page waits for the second factor: it is restricted content.
    assert client.get(members_page.url).status_code == 302


def test_a_restricted_document_waits_for_the_second_factor(client, home):
    collection = Collection.get_first_root_node().add_child(name="Police documents")
    restriction = CollectionViewRestriction.objects.create(collection=collection, restriction_type="groups")
    restriction.groups.set([Group.objects.get(name="Law enforcement")])
    document = get_document_model().objects.create(
        title="Briefing", collection=collection, file=ContentFile(b"briefing text", name="briefing.txt"))
    client.force_login(member_of("law-enforcement"))
    response = client.get(document.url)
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse("members:two_factor_setup")


def test_an_administrator_resets_a_lost_second_factor_and_it_is_logged(client, home):
    officer = member_of("law-enforcement", username="lost-phone")
    TOTPDevice.objects.create(user=officer, name="phone", confirmed=True)
    admin = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(admin)
    url = reverse("members_2fa_reset")
    screen = client.get(url, {"q": "lost"})
    assert screen.status_code == 200 and "Reset two-factor for lost-phone" in screen.content.decode()
    assert client.get(url, {"q": "lost\x00"}).status_code in (200, 400)  # hostile input: never a 500

    client.post(url, {"user": officer.pk})
    assert not TOTPDevice.objects.filter(user=officer).exists()
    entry = ModelLogEntry.objects.get(action="members.two_factor.reset")
    assert entry.user == admin and entry.object_id == str(officer.pk) and entry.data == {"devices": 1}
    assert client.post(url, {"user": "not-a-number"}).status_code == 302


def test_only_administrators_can_reset(client, home):
    from django.contrib.auth.models import Permission

    editor = UserFactory(is_staff=True)
    editor.user_permissions.add(Permission.objects.get(codename="access_admin"))
    officer = member_of("law-enforcement")
    TOTPDevice.objects.create(user=officer, name="phone", confirmed=True)
    client.force_login(editor)
    assert client.post(reverse("members_2fa_reset"), {"user": officer.pk}).status_code in (302, 403)
    assert TOTPDevice.objects.filter(user=officer).exists()
