"""Login throttling, staff two-factor authentication, security headers and shared-password privacy."""

from django.urls import reverse

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import UserFactory
from tests.portal.members.factories import member_of

PASSWORD = "correct-horse-battery"


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    return settings


@pytest.mark.parametrize("login_url_name", ["members:login", "wagtailadmin_login"])
def test_five_failed_logins_lock_the_account_with_a_clear_page(client, home, axes_on, login_url_name):
    UserFactory(username="target", is_superuser=True, is_staff=True)
    url = reverse(login_url_name)
    for _attempt in range(5):
        response = client.post(url, {"username": "target", "password": "wrong-guess"})
        assert response.status_code in (200, 429)
    locked = client.post(url, {"username": "target", "password": "wrong-guess"})
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.content.decode()
    # Even the right password is refused while locked.
    right = client.post(url, {"username": "target", "password": PASSWORD})
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_few_failures_then_success_signs_in(client, home, axes_on):
    UserFactory(username="forgetful")
    url = reverse("members:login")
    for _attempt in range(3):
        client.post(url, {"username": "forgetful", "password": "wrong-guess"})
    response = client.post(url, {"username": "forgetful", "password": PASSWORD})
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


@pytest.fixture(autouse=True)
def no_otp_throttle(settings):
    # django-otp slows retries down after a wrong code; these tests try a wrong code then a right one at once.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0


def _totp_token(device) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def test_staff_must_set_up_two_factor_before_using_the_admin(client, home, settings):
    settings.STAFF_2FA_REQUIRED = True
    admin = UserFactory(is_superuser=True, is_staff=True)
    client.force_login(admin)

    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("members_2fa_setup"))

    setup_page = client.get(response["Location"])
    assert setup_page.status_code == 200
    assert "<svg" in setup_page.content.decode()
    device = TOTPDevice.objects.get(user=admin, confirmed=False)

    wrong = client.post(reverse("members_2fa_setup"), {"token": "000000", "next": "/admin/"})
    assert wrong.status_code == 200 and "did not match" in wrong.content.decode()
    assert client.get("/admin/").status_code == 302

    confirmed = client.post(reverse("members_2fa_setup"), {"token": _totp_token(device), "next": "/admin/"})
    assert confirmed.status_code == 302 and confirmed["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_staff_with_a_device_must_enter_a_code_in_each_new_session(client, home, settings):
    settings.STAFF_2FA_REQUIRED = True
    editor = UserFactory(is_staff=True, is_superuser=True)
    device = TOTPDevice.objects.create(user=editor, name="phone", confirmed=True)
    client.force_login(editor)

    response = client.get("/admin/pages/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("members_2fa_verify"))
    # Restricted site pages are closed too until the code is entered.
    assert client.get(reverse("members:dashboard")).status_code == 302

    assert client.post(reverse("members_2fa_verify"), {"token": "123456", "next": "/admin/pages/"}).status_code == 200
    verified = client.post(reverse("members_2fa_verify"), {"token": _totp_token(device), "next": "/admin/pages/"})
    assert verified.status_code == 302 and verified["Location"] == "/admin/pages/"
    assert client.get("/admin/pages/").status_code == 200


def test_members_are_not_asked_for_two_factor(client, home, settings):
    settings.STAFF_2FA_REQUIRED = True
    client.force_login(member_of("ngo"))
    assert client.get(reverse("members:dashboard")).status_code == 200


def test_two_factor_is_off_when_the_setting_is_off(client, home, settings):
    settings.STAFF_2FA_REQUIRED = False
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert client.get("/admin/").status_code == 200


def test_shared_password_privacy_is_not_offered(client, home):
    from wagtail.admin.forms.pages import PageViewRestrictionForm

    form = PageViewRestrictionForm(private_page_options=home.private_page_options)
    choices = [value for value, _label in form.fields["restriction_type"].choices]
    assert "password" not in choices
    assert "login" in choices and "groups" in choices

    from wagtail.admin.forms.collections import CollectionViewRestrictionForm

    collection_choices = [value for value, _label in CollectionViewRestrictionForm().fields["restriction_type"].choices]
    assert "password" not in collection_choices


def test_production_security_headers(client, home, settings):
    settings.MIDDLEWARE = [*settings.SECURITY_HEADERS_MIDDLEWARE, *settings.MIDDLEWARE]  # as production does
    response = client.get("/en/")
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert "camera=()" in response["Permissions-Policy"]
    admin_login = client.get("/admin/login/")
    assert "frame-ancestors 'self'" in admin_login["Content-Security-Policy"]


# --- The lockout counts per account, whatever identifier or letter case is typed (issue 16, point 6) -------


def test_five_failures_lock_the_account_for_its_email_and_every_letter_case(home, axes_on):
    """The reproduction: after five wrong passwords for the username, the right password typed as the member's
    email logged in, and each letter-case variant of the email had its own counter."""
    from django.test import Client

    member_of("law-enforcement", username="officer", email="Officer@Police.example")
    url = reverse("members:login")
    guesses = ["officer", "OFFICER", "officer@police.example", "OFFICER@POLICE.EXAMPLE", "Officer@Police.example"]
    for number, typed in enumerate(guesses):  # a fresh address each time: only the account counter adds up
        Client(REMOTE_ADDR=f"198.51.100.{number + 1}").post(url, {"username": typed, "password": "wrong-guess"})
    for typed in ["officer", "officer@police.example", "OfFiCeR@pOlIcE.eXaMpLe"]:
        attacker = Client(REMOTE_ADDR="198.51.100.99")
        response = attacker.post(url, {"username": typed, "password": PASSWORD})
        assert response.status_code == 429, typed
        assert "_auth_user_id" not in attacker.session


def test_five_failures_from_one_address_lock_that_address_for_every_account(home, axes_on):
    from django.test import Client

    UserFactory(username="someone-else")
    url = reverse("members:login")
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for number in range(5):
        attacker.post(url, {"username": f"guess{number}@example.org", "password": "wrong-guess"})
    assert attacker.post(url, {"username": "someone-else", "password": PASSWORD}).status_code == 429
    # Another address is not affected.
    assert Client(REMOTE_ADDR="203.0.113.8").post(url, {"username": "someone-else", "password": PASSWORD}
                                                  ).status_code == 302


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(home, axes_on, settings):
    from django.test import Client

    settings.NEWSLETTER_TRUSTED_PROXY_COUNT = 1
    UserFactory(username="behind-proxy")
    url = reverse("members:login")
    for number in range(5):
        Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.50").post(
            url, {"username": f"nobody{number}", "password": "wrong-guess"})
    # Everyone else comes through the same proxy and is not locked out.
    other = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.51")
    assert other.post(url, {"username": "behind-proxy", "password": PASSWORD}).status_code == 302
