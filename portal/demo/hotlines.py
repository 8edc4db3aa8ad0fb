"""Demo step: a directory of fictional hotlines (reserved ``.example`` domains) for a dozen countries, a
neighbour recommended for Luxembourg, an international channel for every other country without a hotline,
and the "Where to report" page under the home page. Idempotent: what exists is left as it is."""

from __future__ import annotations

import sys

from django.db import transaction

from portal.hotlines.models import Hotline, HotlineDirectoryPage
from portal.members.models import Organisation
from portal.pages.models import HomePage

ALL = ["csam", "grooming", "sextortion", "ai-generated", "other-illegal"]
CORE = ["csam", "ai-generated"]


def _hotline(name, countries, languages, accepts, *, host, anonymous=True, phone="", description="", **extra):
    return {
        "name": name, "countries": countries, "languages": languages, "accepts": accepts, "anonymous": anonymous,
        "report_url": f"https://report.{host}.example/", "email": f"report@{host}.example", "phone": phone,
        "description": description, **extra,
    }


HOTLINES = [
    _hotline("Northern Lights Hotline", ["NO"], ["nb", "en"], ALL, host="northern-lights",
             description="Takes reports of abuse material, grooming and sextortion, around the clock."),
    _hotline("Tagus Reporting Hotline", ["PT"], ["pt", "en"], [*CORE, "grooming"], host="tagus",
             phone="+351 800 000 000"),
    _hotline("Ligne Claire", ["FR"], ["fr", "en"], ALL, host="ligne-claire",
             description="The French public's hotline for illegal content online."),
    _hotline("Signal Jeunesse", ["FR"], ["fr"], ["grooming", "sextortion"], host="signal-jeunesse",
             anonymous=False, description="For young people who are being pressured or blackmailed online."),
    _hotline("Meldpunt Lage Landen", ["BE"], ["nl", "fr", "en"], [*CORE, "other-illegal"], host="lage-landen",
             fallback_for=["LU"]),
    _hotline("Meldlijn Noordzee", ["NL"], ["nl", "en"], ALL, host="noordzee"),
    _hotline("Meldestelle Rhein", ["DE", "AT"], ["de", "en"], [*CORE, "grooming", "other-illegal"], host="rhein",
             phone="+49 800 000 0000"),
    _hotline("Punkt Zgłoszeń Wisła", ["PL"], ["pl", "en"], [*CORE, "sextortion"], host="wisla"),
    _hotline("Linea Sicura Appennini", ["IT"], ["it", "en"], ALL, host="appennini"),
    _hotline("Línea Directa Meseta", ["ES"], ["es", "ca"], [*CORE, "grooming"], host="meseta"),
    _hotline("Shannon Report Line", ["IE"], ["en", "ga"], CORE, host="shannon"),
    _hotline("Rapportlinjen Mälaren", ["SE"], ["sv", "en"], [*CORE, "sextortion"], host="malaren"),
    _hotline("Great Lakes Report Centre", ["CA"], ["en", "fr"], ALL, host="great-lakes"),
    _hotline("Network International Reporting Channel", [], ["en", "fr", "es"], CORE, host="network-international",
             international=True,
             description="For countries without a member hotline: reports are passed to the hotline or police "
                         "of the country where the material is hosted."),
]

ADVICE = """
<h3>Never download, forward, screenshot or investigate the material yourself</h3>
<p>Copying or sharing abuse material is a crime in most countries, even when you mean well, and it spreads the
harm. Report the web address only, then close the page.</p>
<ol>
<li>Copy the web address (URL) of the page. Do not copy the material itself.</li>
<li>Open your hotline's reporting form from this directory.</li>
<li>Paste the address and describe briefly what you saw. You do not need to give your name.</li>
</ol>
<p>A child in immediate danger? Call the police (112 in the EU).</p>
"""

NO_HOTLINE = (
    "<p>Report to the channel below: the network passes every report on to the hotline or police of the "
    "country where the material is hosted.</p>"
)


# The page in the other languages whose home page the demo translates (a directory in every content language:
# the hotlines themselves are shared, country, language and category names come from the interface translations).
TRANSLATIONS = {
    "fr": {
        "title": "Où signaler",
        "intro": "Choisissez votre pays pour trouver la hotline qui reçoit les signalements de contenus "
                 "pédocriminels en ligne. Signaler est gratuit et peut être anonyme.",
        "advice": "<h3>Ne téléchargez, ne transférez, ne capturez et n'enquêtez jamais vous-même</h3>"
                  "<p>Copier ou partager ces contenus est un délit dans la plupart des pays, même avec de bonnes "
                  "intentions. Signalez uniquement l'adresse web, puis fermez la page.</p>"
                  "<p>Un enfant en danger immédiat ? Appelez la police (112 dans l'UE).</p>",
        "no_hotline_text": "<p>Signalez au canal ci-dessous : le réseau transmet chaque signalement à la hotline "
                           "ou à la police du pays où le contenu est hébergé.</p>",
        "listing_summary": "Trouvez votre hotline nationale et signalez les contenus pédocriminels en ligne.",
    },
    "de": {
        "title": "Wo melden",
        "intro": "Wählen Sie Ihr Land, um die Meldestelle für Darstellungen sexuellen Kindesmissbrauchs im "
                 "Internet zu finden. Melden ist kostenlos und kann anonym sein.",
        "advice": "<h3>Laden Sie das Material nie herunter, leiten Sie es nie weiter und ermitteln Sie nie "
                  "selbst</h3><p>Das Kopieren oder Teilen solchen Materials ist in den meisten Ländern strafbar, "
                  "auch in guter Absicht. Melden Sie nur die Webadresse und schließen Sie die Seite.</p>"
                  "<p>Ist ein Kind in unmittelbarer Gefahr? Rufen Sie die Polizei (112 in der EU).</p>",
        "no_hotline_text": "<p>Melden Sie an den unten genannten Kanal: Das Netzwerk leitet jede Meldung an die "
                           "Meldestelle oder Polizei des Landes weiter, in dem das Material gehostet wird.</p>",
        "listing_summary": "Finden Sie Ihre nationale Meldestelle und melden Sie Missbrauchsdarstellungen.",
    },
}


def seed(stdout=None) -> None:
    """Create the demo hotlines and the directory page (idempotent)."""
    out = stdout or sys.stdout
    with transaction.atomic():
        _seed_hotlines(out)
        home = HomePage.objects.filter(locale__language_code="en").first() or HomePage.objects.first()
        if home is not None:
            page = home.get_children().filter(slug="where-to-report").first() or _directory_page(home, out)
            _translate(page.specific, home, out)


def _seed_hotlines(out) -> None:
    """The demo hotlines that are missing, each linked to the member organisation of the same name if any."""
    created = 0
    for fields in HOTLINES:
        if Hotline.objects.filter(name=fields["name"]).exists():
            continue
        organisation = Organisation.objects.filter(name=fields["name"]).first()
        hotline = Hotline(**fields, organisation=organisation)
        hotline.full_clean()  # invalid demo data fails loudly
        hotline.save()
        created += 1
    if created:
        out.write(f"  created {created} demo hotlines\n")


def _directory_page(home: HomePage, out) -> HotlineDirectoryPage:
    """Create and publish the "Where to report" page, in the menu before "About the network"."""
    page = HotlineDirectoryPage(
        title="Where to report", slug="where-to-report",
        intro="Choose your country to find the hotline that takes reports of child sexual abuse material "
              "online. Reporting is free and can be anonymous.",
        advice=ADVICE + _guide_link(home), no_hotline_text=NO_HOTLINE, show_in_menus=True,
        listing_summary="Find your national hotline and report child sexual abuse material online.",
    )
    home.add_child(instance=page)
    page.save_revision().publish()
    # In the menu where a reporter looks first: before "About the network" (siblings are in tree order).
    about = home.get_children().filter(slug="about").first()
    if about is not None:
        page.move(about, pos="left")
        page.refresh_from_db()
    out.write(f"  created the hotline directory at {page.url}\n")
    return page


def _guide_link(home: HomePage) -> str:
    """A link to the longer how-to-report guide, when the demo has it."""
    guide = home.get_children().filter(slug="how-to-report").first()
    if guide is None:
        return ""
    return f'<p>More detail: <a linktype="page" id="{guide.pk}">{guide.title}</a>.</p>'


def _translate(page: HotlineDirectoryPage, home: HomePage, out) -> None:
    """The directory in every language whose home page is translated (else it would be missing there)."""
    for translated_home in home.get_translations().live().select_related("locale"):
        locale = translated_home.locale
        if page.get_translation_or_none(locale) is not None:
            continue
        translation = page.copy_for_translation(locale)
        for name, value in TRANSLATIONS.get(locale.language_code, {}).items():
            setattr(translation, name, value)
        translation.save()
        translation.save_revision().publish()
        out.write(f"  translated the hotline directory into {locale.language_code}: {translation.url}\n")
