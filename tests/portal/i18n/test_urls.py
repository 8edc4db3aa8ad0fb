"""Language-prefixed URLs, the root redirect, the language switcher and hreflang links."""

from django.conf import settings

import pytest
from bs4 import BeautifulSoup

from tests.factories import StandardPageFactory

pytestmark = pytest.mark.django_db


def soup(response) -> BeautifulSoup:
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.content, "html.parser")


def switcher(page_soup) -> dict[str, dict]:
    nav = page_soup.select_one("nav.language-switcher")
    assert nav is not None, "no language switcher"
    return {link["hreflang"]: link for link in nav.select("a")}


def test_page_and_translation_are_served_under_their_prefixes(client, article, french):
    assert article.url == "/en/best-practices/fast-takedown/"
    assert french["article"].url == "/fr/bonnes-pratiques/retrait-rapide/"
    english = soup(client.get(article.url))
    assert english.html["lang"] == "en"
    assert "Fast takedown" in english.h1.get_text()
    translated = soup(client.get(french["article"].url))
    assert translated.html["lang"] == "fr"
    assert "Retrait rapide" in translated.h1.get_text()
    assert "Hosting providers" not in translated.get_text()


def test_switcher_links_a_page_to_its_translation_and_marks_the_current_language(client, article, french):
    links = switcher(soup(client.get(article.url)))
    assert set(links) == {code for code, _name in settings.LANGUAGES}
    assert links["fr"]["href"] == "/fr/bonnes-pratiques/retrait-rapide/"
    assert links["fr"].get_text(strip=True) == "Français"
    assert links["en"]["href"] == "/en/best-practices/fast-takedown/"
    assert links["en"]["aria-current"] == "true"
    assert "aria-current" not in links["fr"].attrs
    back = switcher(soup(client.get(french["article"].url)))
    assert back["en"]["href"] == "/en/best-practices/fast-takedown/"
    assert back["fr"]["aria-current"] == "true"


def test_switcher_falls_back_to_the_language_home_without_a_translation(client, home, article, french):
    links = switcher(soup(client.get(article.url)))
    assert links["de"]["href"] == "/de/"  # no German home yet: the language's root
    untranslated = StandardPageFactory(parent=home, slug="about")
    links = switcher(soup(client.get(untranslated.url)))
    assert links["fr"]["href"] == "/fr/"  # the French home page
    assert "title" in links["fr"].attrs  # says the page is not translated


def test_hreflang_alternates_in_pages(client, article, french):
    head = soup(client.get(article.url)).head
    alternates = {link["hreflang"]: link["href"] for link in head.select("link[rel=alternate][hreflang]")}
    assert alternates == {
        "en": "http://testserver/en/best-practices/fast-takedown/",
        "fr": "http://testserver/fr/bonnes-pratiques/retrait-rapide/",
        "x-default": "http://testserver/en/best-practices/fast-takedown/",
    }
    french_head = soup(client.get(french["article"].url)).head
    codes = {link["hreflang"] for link in french_head.select("link[rel=alternate][hreflang]")}
    assert codes == {"en", "fr", "x-default"}


def test_untranslated_page_has_no_hreflang_alternates(client, article):
    head = soup(client.get(article.url)).head
    assert head.select("link[rel=alternate][hreflang]") == []


def test_root_redirect_follows_accept_language(client, french):
    response = client.get("/", headers={"accept-language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert response.status_code == 302 and response["Location"] == "/fr/"
    response = client.get("/", headers={"accept-language": "de;q=0.9"})
    assert response["Location"] == "/de/"
    response = client.get("/", headers={"accept-language": "ja"})  # not offered: the default language
    assert response["Location"] == "/en/"
    assert "Accept-Language" in response["Vary"]


def test_root_redirect_prefers_the_remembered_choice(client, french):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    response = client.get("/", headers={"accept-language": "fr"})
    assert response["Location"] == "/de/"


def test_reading_a_page_in_a_language_remembers_it(client, home, french):
    response = client.get("/fr/")
    assert response.status_code == 200
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    assert client.get("/", headers={"accept-language": "en"})["Location"] == "/fr/"
    again = client.get("/fr/")
    assert settings.LANGUAGE_COOKIE_NAME not in again.cookies  # not set again when unchanged


def test_old_unprefixed_page_links_redirect_to_the_prefixed_page(client, article):
    response = client.get("/best-practices/fast-takedown/")
    assert response.status_code == 302
    assert response["Location"] == "/en/best-practices/fast-takedown/"


@pytest.mark.parametrize("path", ["/health/", "/robots.txt", "/sitemap.xml", "/api/v2/pages/", "/feeds/latest/rss/"])
def test_machine_endpoints_answer_unprefixed_without_redirect(client, home, path):
    response = client.get(path, headers={"accept-language": "fr"})
    assert response.status_code == 200, (path, response.status_code)


@pytest.mark.parametrize("path", ["/api/v2/pages/999999/", "/newsletter/unsubscribe/not-a-token/",
                                  "/newsletter/confirm/not-a-token/", "/health/nope/", "/documents/999999/x.pdf"])
def test_machine_endpoints_never_redirect_even_when_missing(client, home, path):
    for response in (client.get(path, headers={"accept-language": "fr"}), client.post(path)):
        assert not 300 <= response.status_code < 400, (path, response.status_code)


def test_search_and_feeds_live_under_the_language_prefix(client, home, french):
    assert client.get("/fr/search/", {"q": "retrait"}).status_code == 200
    assert client.get("/fr/feeds/latest/rss/").status_code == 200
    links = switcher(soup(client.get("/fr/search/", {"q": "retrait"})))
    assert links["de"]["href"] == "/de/search/?q=retrait"


def test_switcher_on_an_unprefixed_view_remembers_the_choice_and_comes_back(client, home):
    page = soup(client.get("/newsletter/subscribe/"))
    link = switcher(page)["fr"]["href"]
    assert link.startswith("/language/fr/?next=")
    response = client.get(link)
    assert response.status_code == 302 and response["Location"] == "/newsletter/subscribe/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    assert client.get("/language/fr/", {"next": "https://evil.example/"})["Location"] == "/fr/"


def test_only_views_rendered_in_the_negotiated_language_vary_on_it(client, home):
    assert "Accept-Language" not in client.get("/feeds/latest/rss/").get("Vary", "")
    assert "Accept-Language" not in client.get("/health/").get("Vary", "")
    signup = client.get("/newsletter/subscribe/", headers={"accept-language": "de"})
    assert "Accept-Language" in signup["Vary"] and signup["Content-Language"] == "de"
    assert 'lang="de"' in signup.content.decode()
