"""Demo step: French and German translations of the home page, one best-practice article and the
conference notes (with the index pages above them), so the language switcher shows its use at once.

Made the way an editor makes them: Wagtail's copy for translation, translated fields, publish. Idempotent:
a translation that exists is left as it is.
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.db import transaction

from wagtail.models import Locale, Page

from portal.pages.models import ArticleIndexPage, ArticlePage, ConferenceIndexPage, ConferenceNotesPage, HomePage

ARTICLE_SLUG = "notice-and-takedown-what-makes-removal-fast"
CONFERENCE_SLUG = "prevention-and-awareness-conference-the-hague-2015"


def paragraph(html: str) -> list[dict]:
    return [{"type": "paragraph", "value": html}]


TRANSLATIONS = {
    "fr": {
        "home": {
            "title": "Réseau de hotlines",
            "hero_title": "Ensemble contre les contenus pédocriminels en ligne",
            "intro": "<p>Le réseau relie les hotlines internet, les ONG de protection de l'enfance, l'industrie et "
                     "les forces de l'ordre pour retirer d'internet les contenus d'abus sexuels sur enfants et "
                     "prévenir les abus. Les hotlines membres obtiennent le retrait de <b>la plupart des contenus "
                     "illégaux signalés en trois jours</b> (les derniers chiffres sont ci-dessous). Ce portail est "
                     "l'endroit où les membres "
                     "partagent ce qui fonctionne.</p>",
            "listing_summary": "Le réseau international des hotlines internet contre les contenus pédocriminels.",
        },
        "best-practices": {"title": "Bonnes pratiques", "slug": "bonnes-pratiques",
                           "intro": "<p>Ce que les hotlines membres et leurs partenaires ont appris sur le retrait, "
                                    "la prévention et la coopération.</p>"},
        "conference-notes": {"title": "Notes de conférence", "slug": "notes-de-conference",
                             "intro": "<p>Notes des conférences et réunions du réseau : sessions, intervenants et "
                                      "enseignements.</p>"},
        "article": {
            "title": "Notification et retrait : ce qui rend le retrait rapide",
            "slug": "notification-et-retrait-ce-qui-rend-le-retrait-rapide",
            "summary": "La plupart des contenus signalés peuvent être retirés en quelques jours lorsque la hotline "
                       "du pays d'hébergement, la police et l'hébergeur connaissent chacun leur rôle. Voici la "
                       "méthode que suivent nos analystes.",
            "body": paragraph(
                "<p>Chaque jour où une image signalée reste en ligne, elle peut être vue, copiée et rediffusée, "
                "et chaque consultation répète le tort fait à l'enfant. La notification et le retrait sont le "
                "cœur du travail des hotlines : une personne signale une adresse, un analyste confirme son "
                "caractère illégal et le contenu est retiré à la source.</p>"
                "<p>En dix ans, nous avons appris que la rapidité ne vient pas d'un effort accru sur chaque "
                "signalement, mais d'une chaîne où chacun sait quoi faire et quand, et d'hébergeurs qui font "
                "confiance à l'évaluation des hotlines.</p>"),
        },
        "conference": {
            "title": "Prévention et sensibilisation : conférence conjointe police et hotlines, La Haye 2015",
            "slug": "prevention-et-sensibilisation-la-haye-2015",
            "event_name": "Conférence conjointe des forces de l'ordre et des hotlines sur la prévention",
            "city": "La Haye",
            "summary": "Deux jours à La Haye pour réunir analystes et responsables de hotlines et spécialistes de "
                       "la police autour d'une question : que peuvent apporter la prévention et la "
                       "sensibilisation au retrait et à l'enquête ?",
            "key_takeaways": [
                {"type": "takeaway", "value": "Le retrait et l'enquête traitent un tort déjà commis ; seule la "
                                              "prévention l'empêche avant qu'il ne commence."},
                {"type": "takeaway", "value": "Une aide anonyme et sans jugement est utilisée, et des personnes "
                                              "la demandent avant de passer à l'acte."},
                {"type": "takeaway", "value": "Des canaux de confiance entre hotlines, industrie et police "
                                              "rendent le retrait rapide."},
            ],
            "sessions": [],
            "body": paragraph("<p>Les notes détaillées des sessions sont disponibles dans la version anglaise.</p>"),
        },
    },
    "de": {
        "home": {
            "title": "Hotline-Netzwerk",
            "hero_title": "Gemeinsam gegen Darstellungen sexuellen Kindesmissbrauchs im Internet",
            "intro": "<p>Das Netzwerk verbindet Internet-Hotlines, Kinderschutzorganisationen, Wirtschaft und "
                     "Strafverfolgung in der gemeinsamen Arbeit, Missbrauchsdarstellungen aus dem Internet zu "
                     "entfernen und Missbrauch zu verhindern. Die Mitglieds-Hotlines erreichen die Entfernung "
                     "<b>der meisten gemeldeten illegalen Inhalte innerhalb von drei Tagen</b> (die neuesten "
                     "Zahlen stehen unten). "
                     "Hier teilen die Mitglieder, was funktioniert.</p>",
            "listing_summary": "Das internationale Netzwerk der Internet-Hotlines gegen Missbrauchsdarstellungen.",
        },
        "best-practices": {"title": "Best Practices", "slug": "best-practices",
                           "intro": "<p>Was Mitglieds-Hotlines und Partner über Entfernung, Prävention und "
                                    "Zusammenarbeit gelernt haben.</p>"},
        "conference-notes": {"title": "Konferenznotizen", "slug": "konferenznotizen",
                             "intro": "<p>Notizen von Konferenzen und Netzwerktreffen: Sitzungen, Vortragende und "
                                      "Erkenntnisse.</p>"},
        "article": {
            "title": "Notice and Takedown: was eine schnelle Entfernung möglich macht",
            "slug": "notice-and-takedown-schnelle-entfernung",
            "summary": "Die meisten gemeldeten Inhalte lassen sich innerhalb weniger Tage entfernen, wenn die "
                       "Hotline im Hosting-Land, die Polizei und der Hosting-Anbieter ihre Rolle kennen. So "
                       "arbeiten unsere Analystinnen und Analysten.",
            "body": paragraph(
                "<p>Jeder Tag, an dem ein gemeldetes Bild online bleibt, kann es angesehen, kopiert und "
                "weiterverbreitet werden, und jeder Aufruf wiederholt das Leid des Kindes. Notice and Takedown "
                "ist der Kern der Hotline-Arbeit: Jemand meldet eine Adresse, eine Analystin bestätigt die "
                "Rechtswidrigkeit, und der Inhalt wird an der Quelle entfernt.</p>"
                "<p>In zehn Jahren haben wir gelernt: Geschwindigkeit entsteht nicht durch mehr Einsatz bei "
                "einzelnen Meldungen, sondern durch eine Kette, in der jedes Glied weiß, was wann zu tun ist.</p>"),
        },
        "conference": {
            "title": "Prävention und Aufklärung: gemeinsame Konferenz von Polizei und Hotlines, Den Haag 2015",
            "slug": "praevention-und-aufklaerung-den-haag-2015",
            "event_name": "Gemeinsame Konferenz von Strafverfolgung und Hotlines zu Prävention und Aufklärung",
            "city": "Den Haag",
            "summary": "Zwei Tage in Den Haag mit Hotline-Fachleuten und Polizeispezialisten zu der Frage, was "
                       "Prävention und Aufklärung zu Entfernung und Ermittlung beitragen können.",
            "key_takeaways": [
                {"type": "takeaway", "value": "Entfernung und Ermittlung reagieren auf geschehenes Leid; nur "
                                              "Prävention verhindert es, bevor es beginnt."},
                {"type": "takeaway", "value": "Anonyme, wertfreie Hilfe wird genutzt, und Menschen melden sich, "
                                              "bevor sie Taten begehen."},
                {"type": "takeaway", "value": "Vertrauenswürdige Kanäle zwischen Hotlines, Wirtschaft und "
                                              "Polizei machen die Entfernung schnell."},
            ],
            "sessions": [],
            "body": paragraph("<p>Die ausführlichen Sitzungsnotizen stehen in der englischen Fassung.</p>"),
        },
    },
}


def _translate(page: Page, locale: Locale, fields: dict, out) -> Page:
    """The page's translation in ``locale``: created from the page, filled in and published if missing."""
    existing = page.get_translation_or_none(locale)
    if existing is not None:
        return existing.specific
    translation = page.specific.copy_for_translation(locale)
    for name, value in fields.items():
        setattr(translation, name, value)
    translation.save()
    translation.save_revision().publish()
    out.write(f"  translated {page.title!r} into {locale.language_code}: {translation.url}\n")
    return translation


def seed(stdout=None) -> None:
    """Add the French and German translations (when those languages are configured)."""
    out = stdout or sys.stdout
    codes = {code for code, _name in settings.LANGUAGES}
    home = HomePage.objects.filter(locale__language_code=settings.LANGUAGE_CODE).order_by("path").first()
    if home is None:
        out.write("  no home page: nothing to translate\n")
        return
    sections = _sections(home)
    for code in [code for code in TRANSLATIONS if code in codes]:
        content = TRANSLATIONS[code]
        locale, _ = Locale.objects.get_or_create(language_code=code)
        with transaction.atomic():
            _translate(home, locale, content["home"], out)
            for page, index_model, index_key, page_key in sections:
                _translate_with_index(page, index_model, locale, content[index_key], content[page_key], out)


def _sections(home: HomePage) -> list[tuple]:
    """The demo pages translated with their index page: (page or None, index page type, the keys of the index's
    and the page's texts in TRANSLATIONS)."""
    return [
        (ArticlePage.objects.filter(slug=ARTICLE_SLUG, locale=home.locale).first(), ArticleIndexPage,
         "best-practices", "article"),
        (ConferenceNotesPage.objects.filter(slug=CONFERENCE_SLUG, locale=home.locale).first(), ConferenceIndexPage,
         "conference-notes", "conference"),
    ]


def _translate_with_index(page, index_model, locale: Locale, index_fields: dict, page_fields: dict, out) -> None:
    """Translate a demo page and its index page first (a translation needs its parent's), when the page exists
    under an index of the expected type."""
    index = page.get_parent().specific if page is not None else None
    if isinstance(index, index_model):
        _translate(index, locale, index_fields, out)
        _translate(page, locale, page_fields, out)
