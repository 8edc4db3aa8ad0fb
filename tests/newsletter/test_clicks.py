"""Engagement without surveillance: no open pixel, clicks per link through a signed redirect, scanners set aside,
a per-person click history only for those who turned it on."""

import re
from datetime import timedelta

from django.core import signing
from django.urls import reverse
from django.utils import timezone

from wagtail.models import PageViewRestriction

import pytest

from newsletter.models import Audience, ConsentRecord, LinkClicks, Send, Subscriber, SubscriberClick
from newsletter.services import dispatch, engagement, privacy, tokens
from newsletter.tasks import start_send
from tests.factories import StandardPageFactory
from tests.newsletter.factories import SubscriberFactory
from tests.newsletter.helpers import html_part, links_in, path_of, text_part
from tests.newsletter.issue_factories import NewsletterIndexPageFactory, featured, make_issue, text
from tests.portal.members.factories import member_of

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
OUTSIDE = "https://hotline.example.net/report?lang=en&ref=newsletter"


@pytest.fixture
def archive(home):
    return NewsletterIndexPageFactory(parent=home)


@pytest.fixture
def article(home):
    return StandardPageFactory(parent=home, title="Notice and takedown in practice", slug="ntd-practice")


def send_issue(archive, smtp, settings, *, blocks, audience=Audience.PUBLIC, title="Clicks issue"):
    settings.NEWSLETTER_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    issue = make_issue(archive, blocks=blocks, audience=audience, title=title, slug=title.lower().replace(" ", "-"))
    send, _ = dispatch.create_send(issue)
    start_send.delay(send.pk)
    send.refresh_from_db()
    assert send.status == Send.Status.DONE
    return send


def messages_for(smtp, address):
    """The newsletters sent to ``address`` (not the emails that only carry a link to confirm something)."""
    return [message for message in smtp.messages if address in message["To"] and "click history" not in
            message["Subject"]]


def click_links(message) -> list[str]:
    return [link.rstrip(").,") for link in links_in(text_part(message)) if "/newsletter/l/" in link]


def outside_link(message) -> str:
    return next(link for link in click_links(message)
                if engagement.read(*path_of(link).split("/")[3:5]).url == OUTSIDE)


@pytest.fixture
def clock(monkeypatch):
    """Move the clock forward for the click view (scanner fetches come within seconds of delivery)."""
    state = {"offset": 0}
    real_now = timezone.now

    def now():
        return real_now() + timedelta(seconds=state["offset"])

    monkeypatch.setattr(timezone, "now", now)
    return state


def test_issue_has_no_open_pixel_and_every_web_link_goes_through_an_anonymous_counter(
    client, archive, article, smtp, settings
):
    reader = SubscriberFactory(email="reader@example.org")
    send = send_issue(archive, smtp, settings, blocks=[
        featured(article), text(f'<p>Report to <a href="{OUTSIDE}">your hotline</a>.</p>'),
    ])
    [message] = messages_for(smtp, reader.email)
    html = html_part(message)

    # No pixel: no image comes from the portal's newsletter URLs, none is 1x1, nothing personal in any image URL.
    for tag in re.findall(r"<img\b[^>]*>", html):
        assert "/newsletter/" not in tag and 'width="1"' not in tag and 'height="1"' not in tag
    # Every web link of the content is a click link; only the personal pages (unsubscribe, preferences) are not.
    hrefs = re.findall(r'href="(https?://[^"]+)"', html)
    direct = [href for href in hrefs if "/newsletter/l/" not in href]
    assert direct and all(re.search(r"/newsletter/(unsubscribe|preferences)/", href) for href in direct)
    links = click_links(message)
    assert len(links) >= 2
    # The link token names the send and the target only; the stamp only the delivery time.
    for link in links:
        token, stamp = path_of(link).split("/")[3:5]
        assert set(signing.Signer(salt=engagement.LINK_SALT).unsign_object(token)) == {"s", "u"}
        assert set(signing.Signer(salt=engagement.STAMP_SALT).unsign_object(stamp)) == {"t"}
    targets = {engagement.read(*path_of(link).split("/")[3:5]).url for link in links}
    assert OUTSIDE in targets and any(article.url_path.rstrip("/").split("/")[-1] in url for url in targets)
    # The archive page links directly (only sent emails count clicks).
    archive_page = client.get(send.issue.url, follow=True)
    assert archive_page.status_code == 200 and "/newsletter/l/" not in archive_page.content.decode()


def test_a_reader_click_counts_once_per_link_and_scanners_are_set_aside(client, archive, smtp, settings, clock):
    SubscriberFactory(email="reader@example.org")
    send = send_issue(archive, smtp, settings, blocks=[text(f'<p><a href="{OUTSIDE}">Report</a></p>')])
    [link] = [link for link in click_links(smtp.messages[0]) if "hotline.example.net" in engagement.read(
        *path_of(link).split("/")[3:5]).url]
    path = path_of(link)

    # A mail filter fetches the link as it delivers the message: redirected, but not counted as a click.
    at_delivery = client.get(path, HTTP_USER_AGENT=BROWSER)
    assert at_delivery.status_code == 302 and at_delivery["Location"] == OUTSIDE
    clock["offset"] = 120
    assert client.head(path, HTTP_USER_AGENT=BROWSER).status_code == 302
    for agent in ("Mozilla/5.0 (compatible; Barracuda Sentinel)", "python-requests/2.32", "",
                  "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari/537.36"):
        assert client.get(path, HTTP_USER_AGENT=agent).status_code == 302
    row = LinkClicks.objects.get(send=send, url=OUTSIDE)
    assert (row.clicks, row.scanner_hits) == (0, 6)

    # Two minutes after delivery a reader's browser clicks: counted, and the redirect leaks nothing onwards.
    response = client.get(path, HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 302 and response["Location"] == OUTSIDE
    assert response["Referrer-Policy"] == "no-referrer" and "no-store" in response["Cache-Control"]
    row.refresh_from_db()
    assert (row.clicks, row.scanner_hits) == (1, 6)
    assert not SubscriberClick.objects.exists()  # nobody opted in: a number, not a person


FORGERIES = {
    # The target swapped for another site under the original signature.
    "swapped target": lambda token, stamp: "/newsletter/l/{}:{}/{}".format(
        signing.b64_encode(b'{"s":1,"u":"https://evil.example/"}').decode(), token.rsplit(":", 1)[1], stamp),
    "bare host": lambda token, stamp: "/newsletter/l/evil.example/",
    "truncated signature": lambda token, stamp: f"/newsletter/l/{token[:-3]}/{stamp}",
    "forged stamp": lambda token, stamp: f"/newsletter/l/{token}/{'x' * 40}:{'y' * 43}/",
    "stamp of the link salt": lambda token, stamp: f"/newsletter/l/{token}/{token}/",
    "very long": lambda token, stamp: "/newsletter/l/" + "A" * 5000 + "/",
    # Not even reaching the view: a URL instead of a token (404), a control character (the site's 400 page).
    "raw url": lambda token, stamp: "/newsletter/l/https:%2F%2Fevil.example%2F/",
    "control bytes": lambda token, stamp: "/newsletter/l/%00%ff%fe/",
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_forged_or_changed_click_links_get_a_400_page_and_go_nowhere(client, archive, smtp, settings, forgery):
    SubscriberFactory(email="reader@example.org")
    send = send_issue(archive, smtp, settings, blocks=[text(f'<p><a href="{OUTSIDE}">Report</a></p>')])
    token, stamp = path_of(click_links(smtp.messages[0])[0]).split("/")[3:5]
    response = client.get(FORGERIES[forgery](token, stamp + "/"), HTTP_USER_AGENT=BROWSER)
    assert "Location" not in response
    if forgery == "raw url":
        assert response.status_code == 404
    elif forgery == "control bytes":
        assert response.status_code == 400
    else:
        assert response.status_code == 400 and "This link is not valid" in response.content.decode()
    assert not LinkClicks.objects.filter(send=send, clicks__gt=0).exists()


def test_other_purposes_tokens_and_unsafe_targets_are_refused(client, subscribed):
    unsubscribe_token = tokens.make_token(subscribed, tokens.UNSUBSCRIBE)
    assert client.get(f"/newsletter/l/{unsubscribe_token}/").status_code == 400
    # Even a correctly signed link never redirects to a script or data URL (defence in depth).
    for target in ("javascript:alert(1)", "data:text/html,hi", "//evil.example/", "https://ok.example/\r\nX: y"):
        token = engagement.link_token(1, target)
        assert client.get(f"/newsletter/l/{token}/").status_code == 400
    # A valid link of a send that was deleted still takes the reader on, counting nothing.
    response = client.get(f"/newsletter/l/{engagement.link_token(999999, OUTSIDE)}/", HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 302 and not LinkClicks.objects.exists()


def test_click_history_only_after_opting_in_with_consent_records_and_deleted_on_withdrawal(
    client, archive, smtp, settings, clock, committed
):
    keen = SubscriberFactory(email="keen@example.org")
    quiet = SubscriberFactory(email="quiet@example.org")
    preferences = path_of(tokens.preferences_url(keen))
    page = client.get(preferences).content.decode()
    assert 'name="click_history"' in page and 'name="click_history" id="prefs-click-history" checked' not in page

    # Ticking the box in the preference centre (whose link is in every newsletter, so anyone a newsletter was
    # forwarded to has it) does not turn the history on: a link is emailed to the address.
    saved = committed(client.post, preferences, {"frequency": "every_issue", "language": "en", "click_history": "on"})
    assert "open the link we have emailed to" in saved.content.decode()
    keen.refresh_from_db()
    assert not keen.click_history and not keen.consents.filter(event=ConsentRecord.Event.CLICKS_ON).exists()
    [email] = smtp.wait_for(1)
    assert email["To"] == keen.email and "click history" in email["Subject"]
    link = path_of(next(url for url in links_in(text_part(email)) if "/newsletter/clicks/" in url))
    # Opening it (as a mail scanner would) changes nothing; the button does.
    assert "Turn on my click history" in client.get(link).content.decode()
    keen.refresh_from_db()
    assert not keen.click_history
    done = client.post(link)
    assert "Your click history is on" in done.content.decode()
    keen.refresh_from_db()
    assert keen.click_history and not Subscriber.objects.get(pk=quiet.pk).click_history
    record = keen.consents.get(event=ConsentRecord.Event.CLICKS_ON)
    assert "history of the links I click" in record.consent_text and record.form == "emailed_link"
    # The emailed link is good for an hour only, and never for another purpose.
    assert client.get(link.replace("/clicks/", "/data/export/")).status_code == 400

    send = send_issue(archive, smtp, settings, blocks=[text(f'<p><a href="{OUTSIDE}">Report</a></p>')])
    clock["offset"] = 60
    for person in (keen, quiet):
        [message] = messages_for(smtp, person.email)
        client.get(path_of(outside_link(message)), HTTP_USER_AGENT=BROWSER)
    [kept] = SubscriberClick.objects.all()
    assert kept.subscriber == keen and kept.link.url == OUTSIDE
    assert LinkClicks.objects.get(send=send, url=OUTSIDE).clicks == 2
    exported = privacy.export_subscriber_data(keen)
    assert exported["click_history_on"] is True and exported["click_history"][0]["url"] == OUTSIDE

    # Untick the box: a withdrawal record, and the history is gone; the per-link count stays.
    client.post(preferences, {"frequency": "every_issue", "language": "en"})
    keen.refresh_from_db()
    assert not keen.click_history and not SubscriberClick.objects.exists()
    assert list(keen.consents.values_list("event", flat=True))[-2:] == ["clicks_on", "clicks_off"]
    assert LinkClicks.objects.get(send=send, url=OUTSIDE).clicks == 2
    # Links issued while opted in do not record anything once the person has withdrawn.
    client.get(path_of(outside_link(messages_for(smtp, keen.email)[0])), HTTP_USER_AGENT=BROWSER)
    assert not SubscriberClick.objects.exists()


def test_members_issue_links_lead_outsiders_to_the_login_not_the_page(client, archive, smtp, settings, clock, home):
    secret = StandardPageFactory(parent=home, title="Members briefing", slug="members-briefing",
                                 intro="<p>Only for members: the takedown figures.</p>")
    PageViewRestriction.objects.create(page=secret, restriction_type=PageViewRestriction.LOGIN)
    member_of("hotline", email="analyst@hotline.example.org")
    send_issue(archive, smtp, settings, blocks=[featured(secret)], audience=Audience.MEMBERS, title="Members only")
    [message] = messages_for(smtp, "analyst@hotline.example.org")
    link = next(link for link in click_links(message)
                if "members-briefing" in engagement.read(*path_of(link).split("/")[3:5]).url)
    clock["offset"] = 60
    # Someone the email was forwarded to follows the link: the page still asks them to sign in.
    followed = client.get(path_of(link), HTTP_USER_AGENT=BROWSER, follow=True)
    assert "takedown figures" not in followed.content.decode()
    assert any("login" in url or "sign-in" in url or "/members/" in url for url, _ in followed.redirect_chain)


def test_the_send_report_shows_clicks_per_link_and_list_health(
    client, archive, article, smtp, settings, clock, admin_user
):
    SubscriberFactory(email="reader@example.org")
    leaver = SubscriberFactory(email="leaver@example.org")
    send = send_issue(archive, smtp, settings, blocks=[featured(article),
                                                      text(f'<p><a href="{OUTSIDE}">Report</a></p>')])
    from newsletter.services import subscriptions

    subscriptions.unsubscribe(leaver)
    clock["offset"] = 60
    outside = next(link for link in click_links(smtp.messages[0])
                   if engagement.read(*path_of(link).split("/")[3:5]).url == OUTSIDE)
    client.get(path_of(outside), HTTP_USER_AGENT=BROWSER)
    client.head(path_of(outside), HTTP_USER_AGENT=BROWSER)

    client.force_login(admin_user)
    page = client.get(reverse("newsletter_sending:progress", args=[send.pk])).content.decode()
    assert "Clicks per link" in page and "hotline.example.net/report" in page
    assert re.search(r'data-field="engagement_clicks">1<', page)
    assert re.search(r'data-field="engagement_scanner_hits">1<', page)
    assert re.search(r'data-field="engagement_unsubscribes">1<', page)
    assert re.search(r'data-field="engagement_complaints">0<', page)
    assert "Mailchimp" not in page.split("Clicks and list health")[1].split("Clicks per link")[0]
