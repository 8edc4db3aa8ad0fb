"""Demo content for the page tree: taxonomy, home page, best-practice articles, conference notes, standard pages.

``seed(stdout)`` is idempotent: taxonomy terms are looked up by slug, pages by their slug under their parent,
and anything that already exists is left exactly as it is (editors may have changed it since), so a second run
creates no pages and no revisions. Everything is text and statistics; the only images are generated abstract
shapes. Author organisations are described by role and country, never as real people.
"""

from __future__ import annotations

import datetime
import io
import random
import sys
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.images import ImageFile
from django.db import transaction

from wagtail.images import get_image_model
from wagtail.models import Collection, Page, Site

from PIL import Image as PILImage
from PIL import ImageDraw

from portal.core.models import Sector, Topic
from portal.pages.models import (
    ArticleIndexPage,
    ArticlePage,
    ConferenceIndexPage,
    ConferenceNotesPage,
    HomeFeaturedPage,
    HomePage,
    StandardPage,
)

TOPICS = [
    ("Notice and takedown", "notice-and-takedown",
     "Getting reported illegal material removed at the source, quickly and without compromising investigations."),
    ("Prevention", "prevention",
     "Stopping abuse before it happens: awareness, education and help for people at risk of offending."),
    ("Sextortion", "sextortion",
     "Coercion of children and young people with intimate images, and how to respond to reports of it."),
    ("Industry cooperation", "industry-cooperation",
     "How hotlines and technology companies work together on notices, hashes and transparency."),
    ("Law-enforcement cooperation", "law-enforcement-cooperation",
     "Referral, deconfliction and evidence handling between hotlines and police."),
    ("Hotline operations", "hotline-operations",
     "Running a hotline: assessment, analyst wellbeing, quality and statistics."),
    ("Victim support", "victim-support",
     "Putting the child first: support, removal of images and avoiding re-victimisation."),
]

SECTORS = [
    ("Hotlines", "hotline", "Organisations that receive and assess public reports of illegal content."),
    ("NGOs", "ngo", "Child-protection charities, helplines and prevention services."),
    ("Industry", "industry", "Hosting providers, platforms, registries and other technology companies."),
    ("Law enforcement", "law-enforcement", "Police and international police cooperation bodies."),
    ("Government", "government", "Ministries and public bodies responsible for policy and funding."),
]

# The headline figure wherever the demo's words repeat it: the latest year of the illustrative dataset
# (portal.demo.stats), which the home page's figures, the statistics page's key figures and the API read.
# Pages other than those say it with its year, or point at the statistics instead of repeating it.
HEADLINE_YEAR = 2015
HEADLINE_FIGURE = "93%"
HEADLINE_LABEL = (f"In {HEADLINE_YEAR}, hotlines achieved removal of {HEADLINE_FIGURE} of reported illegal content "
                  "within three days")

DEMO_COLLECTION = "Demo graphics"
# Generated abstract images for social sharing, and the portal's palette they are drawn in (the first two are
# backgrounds, the other three the shapes' colours).
IMAGE_TITLES = ["Abstract shapes: network", "Abstract shapes: prevention", "Abstract shapes: cooperation",
                "Abstract shapes: removal"]
PALETTE = [(21, 61, 99), (0, 122, 120), (242, 169, 59), (229, 92, 76), (238, 242, 246)]


# --- StreamField building blocks (raw JSON form) --------------------------------------------------------------


def heading(text: str, level: str = "h2") -> dict:
    return {"type": "heading", "value": {"text": text, "level": level}}


def text(html: str) -> dict:
    return {"type": "paragraph", "value": html.strip()}


def key_fact(title: str, figure: str = "", body: str = "", source: str = "", tone: str = "info") -> dict:
    return {"type": "key_fact", "value": {"figure": figure, "title": title, "text": body, "source": source,
                                          "tone": tone}}


def quote(words: str, attribution: str, role: str = "") -> dict:
    return {"type": "quote", "value": {"quote": words, "attribution": attribution, "role": role}}


def table(caption: str, rows: list[list[str]]) -> dict:
    return {
        "type": "table",
        "value": {
            "caption": caption,
            "table": {"data": rows, "first_row_is_table_header": True, "first_col_is_header": False},
        },
    }


def session(title: str, speakers: list[str], summary: str, takeaways: list[str]) -> dict:
    return {"type": "session", "value": {"title": title, "speakers": speakers, "summary": summary.strip(),
                                         "takeaways": takeaways}}


# --- Content --------------------------------------------------------------------------------------------------

HOME_INTRO = (
    "<p>The network connects internet hotlines, child-protection NGOs, industry and law enforcement in the "
    "shared work of getting child sexual abuse material off the internet and preventing abuse in the first "
    "place. Member hotlines get <b>most reported illegal content removed within three days</b> (the latest "
    "figures are below). This portal is where members share what works.</p>"
)

ARTICLES = [
    {
        "slug": "notice-and-takedown-what-makes-removal-fast",
        "title": "Notice and takedown: what makes removal fast",
        "summary": (
            "Most reported material can be removed within days when a hotline in the hosting country, the "
            "police and the hosting provider each know their part. This is the workflow our analysts follow."
        ),
        "author_organisation": "Member hotline, Netherlands",
        "date": datetime.date(2015, 3, 12),
        "topics": ["notice-and-takedown", "hotline-operations", "industry-cooperation"],
        "sectors": ["hotline", "industry", "law-enforcement"],
        "body": [
            text("""
<p>Every day that a reported image stays online it can be viewed, copied and redistributed, and every view
repeats the harm done to the child it shows. Notice and takedown is the unglamorous core of hotline work: a
member of the public reports a URL, an analyst confirms it is illegal, and the material is removed at its
source rather than merely blocked somewhere on the way.</p>
<p>Over ten years we have learned that speed does not come from working harder on individual reports. It
comes from a chain in which each link knows exactly what to do and when, and from hosting providers who can
trust that a notice from a hotline has been properly assessed.</p>
"""),
            key_fact(
                "of reported illegal content removed within three days",
                figure="91%",
                body="Network-wide result for 2014, measured from the hotline's notice to confirmed removal.",
                source="Network statistics, 2014",
                tone="highlight",
            ),
            heading("The workflow that works"),
            text("""
<ol>
<li><b>Receive and triage.</b> Reports arrive through the public form, by email and from partner helplines.
Duplicates of URLs already being processed are merged so analysts do not assess the same material twice.</li>
<li><b>Assess against the law.</b> A trained analyst assesses the content against national law and records
the decision with the reason. Uncertain cases go to a second analyst; they are never guessed.</li>
<li><b>Trace the hosting location.</b> We identify where the material is physically hosted, not where the
website appears to be based. Redirects, content delivery networks and image hosts all need to be unpicked.</li>
<li><b>Inform law enforcement first.</b> Police are told before the provider, so that removal never destroys
evidence or alerts a suspect in an ongoing investigation.</li>
<li><b>Notify the right party.</b> If the host is in a country with a member hotline, the report goes to that
hotline, which notifies the provider under its own national arrangements. Otherwise we notify directly.</li>
<li><b>Monitor until removed.</b> A report is only closed when the material is confirmed gone, and the time
to removal is recorded for the statistics.</li>
</ol>
"""),
            table(
                "Stages of a notice and takedown and their target times",
                [
                    ["Stage", "Who acts", "Target time"],
                    ["Assessment of the report", "Hotline analyst", "Same working day"],
                    ["Referral to police", "Hotline", "Immediately after assessment"],
                    ["Hand-over to the hotline in the hosting country", "Hotline", "Within 24 hours"],
                    ["Notice to the hosting provider", "Hotline in the hosting country", "Within 24 hours"],
                    ["Removal", "Hosting provider", "Within 72 hours of the first report"],
                ],
            ),
            quote(
                "The fastest removals happen where the provider has a named contact who answers on a Friday "
                "afternoon. Building that relationship is worth more than any tool.",
                "Senior content analyst",
                "Member hotline, Netherlands",
            ),
            heading("Common reasons for delay"),
            text("""
<ul>
<li>Material moved between hosts after the first notice: keep monitoring the original URL and the new one.</li>
<li>Notices sent to an abuse address nobody reads: agree a dedicated channel in advance.</li>
<li>Uncertainty about the legal assessment at the provider: include the legal basis in every notice.</li>
<li>Holiday periods: agree cover arrangements with the largest providers before, not during, the holidays.</li>
</ul>
<p>None of these requires new technology. They require agreements, clear roles and the discipline to measure
the time each stage takes, so that the slowest link becomes visible and can be fixed.</p>
"""),
        ],
    },
    {
        "slug": "prevention-outreach-before-harm-happens",
        "title": "Prevention outreach: reaching people before harm happens",
        "summary": (
            "Removing material deals with harm that has already happened. Prevention programmes try to stop it: "
            "what we learned from awareness work with parents, schools and people worried about their own thoughts."
        ),
        "author_organisation": "Member NGO and helpline, Germany",
        "date": datetime.date(2015, 5, 20),
        "topics": ["prevention", "victim-support"],
        "sectors": ["ngo", "hotline", "government"],
        "body": [
            text("""
<p>Hotlines see the end of a chain of harm. By the time a report reaches an analyst, a child has already been
abused and the abuse recorded. Prevention work asks a harder question: what could have stopped it from
happening at all?</p>
<p>Our experience points to three audiences that need different messages: the adults around children, children
and young people themselves, and people who are worried about their own sexual interest in children and have
not acted on it.</p>
"""),
            heading("Three audiences, three messages"),
            table(
                "Prevention audiences and what reaches them",
                [
                    ["Audience", "Message", "Channels that worked"],
                    ["Parents and carers", "Know the signs, talk early, know where to report",
                     "Schools, family doctors, parenting forums"],
                    ["Children and young people", "It is never your fault; there is help and it is confidential",
                     "Lessons built with teachers, youth helplines, platforms' safety pages"],
                    ["People worried about their own thoughts", "Help exists, it is anonymous, and it works",
                     "Search advertising, warning messages, confidential helplines"],
                ],
            ),
            heading("Reaching people at risk of offending"),
            text("""
<p>The most controversial part of prevention is also the one with the clearest child-protection logic.
Confidential therapy programmes for people who have never offended, but fear they might, exist in several
member countries. Their message is deliberately non-judgemental: <i>you are not to blame for your feelings,
but you are responsible for your behaviour, and help is available</i>.</p>
<p>Warning and deterrence messages shown to people who search for abuse material can direct them to such
programmes. Hotlines contribute by sharing the search terms and patterns they see in reports, so that
messages appear where they are needed.</p>
"""),
            key_fact(
                "Prevention is child protection",
                body="Every person who gets help before acting on a sexual interest in children is abuse that "
                     "never happens and material that is never created.",
                tone="info",
            ),
            quote(
                "We stopped asking whether prevention for potential offenders is comfortable to talk about, and "
                "started asking whether it protects children. It does.",
                "Prevention programme coordinator",
                "Member NGO, Germany",
            ),
            heading("Measuring what works"),
            text("""
<p>Awareness campaigns are easy to count and hard to evaluate. We now plan every campaign with one measurable
behaviour in mind: calls to a helpline, visits to a help page, or reports made through the correct channel
instead of being forwarded on social media. Reach figures alone tell us little.</p>
<ul>
<li>Agree the single behaviour you want to change before designing the campaign.</li>
<li>Test messages with the audience, including young people, before launch.</li>
<li>Never use images of children, real or staged, in awareness material about abuse.</li>
</ul>
"""),
        ],
    },
    {
        "slug": "responding-to-sextortion-reports",
        "title": "Responding to sextortion reports",
        "summary": (
            "Reports of young people coerced with intimate images are rising. What a hotline can do in the first "
            "hours, how to advise the young person, and why blame must never enter the conversation."
        ),
        "author_organisation": "Member hotline and youth helpline, Ireland",
        "date": datetime.date(2015, 9, 8),
        "topics": ["sextortion", "victim-support", "law-enforcement-cooperation"],
        "sectors": ["hotline", "ngo", "law-enforcement"],
        "body": [
            text("""
<p>Sextortion is the use of intimate images to coerce someone, typically into sending more images, into
sexual acts on camera or into paying money. Offenders often pose as peers, build trust quickly and then
threaten to share an image with the young person's family, school or followers.</p>
<p>For the young person it is frightening and isolating. Many believe they will be blamed or that nothing can
be done. Both beliefs keep them silent, and silence is exactly what the offender relies on.</p>
"""),
            key_fact(
                "Never suggest the young person is to blame",
                body="Shame is the offender's main lever. The first words a young person hears from us should "
                     "be that this is a crime committed against them and that help is available.",
                tone="warning",
            ),
            heading("Advice we give in the first conversation"),
            table(
                "First steps for a young person who is being threatened",
                [
                    ["Step", "Why"],
                    ["Stop all contact and do not pay or send anything more", "Demands rarely stop after a payment"],
                    ["Do not delete the conversation", "Messages, usernames and payment details are evidence"],
                    ["Tell a trusted adult and report to the police", "Offenders often target many young people"],
                    ["Report the account to the platform", "Platforms can preserve data and stop the account"],
                    ["Contact the hotline about any image that has been shared",
                     "The hotline can have it removed where it is hosted"],
                ],
            ),
            heading("What the hotline does", "h2"),
            text("""
<p>Our role is practical. We assess any reported location where an image has been posted, have it removed as
in any other notice and takedown case, and refer the case to the police with the details the young person has
agreed to share. We never ask a young person to send us the image itself: they give us the location, and our
analysts assess it there.</p>
<p>Because the same offender often contacts many young people, we pass usernames and patterns to law
enforcement and, where agreements allow, to the platforms concerned, so that other accounts can be found.</p>
"""),
            quote(
                "The moment a young person realises that they are the victim of a crime, not the author of a "
                "mistake, the conversation changes. They start helping us stop it.",
                "Helpline team leader",
                "Member hotline and youth helpline, Ireland",
            ),
            heading("Early findings from reports"),
            text("""
<p>Reports that mention coercion are still a small share of everything we receive, but they have grown every
quarter since we began recording them separately. Most concern teenagers, and most contact began on a social
platform before moving to a private messaging service. We share anonymised trends with network members so that
prevention messages can be adapted quickly.</p>
"""),
        ],
    },
    {
        "slug": "working-with-industry-trusted-notification-channels",
        "title": "Working with industry: trusted notification channels",
        "summary": (
            "Hosting providers act fastest on notices they trust. How a hotline and industry partners set up "
            "named contacts, agreed formats and feedback, and what each side brings to the table."
        ),
        "author_organisation": "Member hotline, United Kingdom",
        "date": datetime.date(2015, 11, 2),
        "topics": ["industry-cooperation", "notice-and-takedown"],
        "sectors": ["industry", "hotline"],
        "body": [
            text("""
<p>Almost all reported material is hosted by companies that do not want it on their services. The problem is
rarely willingness; it is volume, routing and trust. A notice that lands in a general abuse queue competes
with spam complaints and copyright claims. A notice from a recognised hotline, in an agreed format, to a named
team, is acted on in hours.</p>
"""),
            heading("What an agreement covers"),
            text("""
<ul>
<li><b>Named contacts on both sides</b>, with cover for holidays and out-of-hours escalation.</li>
<li><b>An agreed notice format</b>: the exact location, the legal basis, the time of assessment and a
reference number, and nothing that would itself be illegal to hold.</li>
<li><b>Preservation</b>: the provider keeps the data police may ask for, for an agreed period.</li>
<li><b>Feedback</b>: the provider confirms removal so the hotline can close the report and measure time to
removal.</li>
<li><b>Review</b>: a short meeting twice a year to look at the figures together.</li>
</ul>
"""),
            table(
                "What hotlines and companies each bring",
                [
                    ["Hotlines bring", "Companies bring"],
                    ["Legal assessment by trained analysts", "Knowledge of their own infrastructure"],
                    ["A route to law enforcement", "The ability to remove material at source"],
                    ["Trends seen across many services", "Signals from their own abuse teams"],
                    ["Independent statistics", "Transparency reporting to their users"],
                ],
            ),
            key_fact(
                "Trust is built on accuracy",
                body="Providers act on hotline notices without second-guessing them because the assessments "
                     "are consistently right. Protect that: when in doubt, have a second analyst look.",
                tone="highlight",
            ),
            quote(
                "Our best partnership started with a phone call about one difficult case. Two years later we "
                "exchange several hundred notices a month and almost none need discussion.",
                "Industry liaison officer",
                "Member hotline, United Kingdom",
            ),
            heading("Smaller providers"),
            text("""
<p>Large platforms have dedicated teams. Small hosting companies often do not, and offenders know it. We now
contact new small providers proactively, explain what a hotline notice is, and offer a short guide for their
support staff. Time to removal at small providers has fallen steadily since we started doing so.</p>
"""),
        ],
    },
    {
        "slug": "deconfliction-with-law-enforcement",
        "title": "Deconfliction with law enforcement: removal without harming investigations",
        "summary": (
            "A takedown can alert a suspect or destroy evidence. How hotlines and police agree who acts first, "
            "and how long a hotline waits before notifying a provider."
        ),
        "author_organisation": "Member hotline, Nordic region",
        "date": datetime.date(2015, 12, 1),
        "topics": ["law-enforcement-cooperation", "notice-and-takedown", "hotline-operations"],
        "sectors": ["hotline", "law-enforcement"],
        "body": [
            text("""
<p>Hotlines want material removed as fast as possible. Investigators sometimes need it to stay online a little
longer, to identify a child in danger or a suspect. Both goals protect children, and neither side should
decide alone. Deconfliction is the agreement that settles, case by case, who acts first.</p>
"""),
            heading("How the agreement works"),
            text("""
<ol>
<li>The hotline refers every confirmed report to its national police contact before notifying anyone else.</li>
<li>The police have an agreed window to ask the hotline to hold the notice.</li>
<li>Without a hold request, the notice goes out when the window closes.</li>
<li>A hold is always time-limited and reviewed; it is never open-ended.</li>
</ol>
"""),
            table(
                "Typical deconfliction windows",
                [
                    ["Situation", "Window before notice", "Who decides"],
                    ["Standard report", "Agreed number of working hours", "Police may request a hold"],
                    ["Indication of a child in current danger", "Police lead immediately", "Police"],
                    ["Material already widely known", "No hold expected", "Hotline proceeds"],
                ],
            ),
            quote(
                "The agreement takes the argument out of individual cases. Everybody knows the rule, and the "
                "exceptions are rare and written down.",
                "Hotline manager",
                "Member hotline, Nordic region",
            ),
            key_fact(
                "A child in danger comes first",
                body="Where a report suggests that a child is being abused now, identification of the child "
                     "takes priority over removal, and the police lead.",
                tone="warning",
            ),
        ],
    },
]

CONFERENCE = {
    "slug": "prevention-and-awareness-conference-the-hague-2015",
    "title": "Prevention and awareness: joint law-enforcement and hotline conference, The Hague 2015",
    "event_name": "Joint law-enforcement and hotline conference on prevention and awareness",
    "start_date": datetime.date(2015, 10, 6),
    "end_date": datetime.date(2015, 10, 7),
    "city": "The Hague",
    "country": "NL",
    "organisers": "Hotline network, European police cooperation centre",
    "partners": "Member hotlines, national police units, child-protection NGOs, industry partners",
    "summary": (
        "Two days in The Hague bringing hotline analysts and managers together with police specialists to ask "
        "what prevention and awareness can add to removal and investigation. Sessions covered a ten-year "
        "programme that reaches potential offenders before abuse happens, a first look at research on reports "
        "of sextortion, and how hotlines work with industry and law enforcement."
    ),
    "topics": ["prevention", "sextortion", "law-enforcement-cooperation", "industry-cooperation"],
    "sectors": ["hotline", "law-enforcement", "ngo", "industry"],
    "key_takeaways": [
        "Removal and investigation deal with harm that has happened; prevention is the only measure that stops "
        "it before it starts, and it belongs in the network's core work.",
        "Anonymous, non-judgemental help for people worried about their sexual interest in children is used, and "
        "people come forward before they offend.",
        "Sextortion reports are growing and need fast, coordinated action by hotlines, platforms and police.",
        "Trusted, named channels between hotlines, industry and law enforcement are what make removal fast.",
        "Hotlines should record coercion and sextortion consistently so that network-wide trends become visible.",
    ],
    "sessions": [
        session(
            "Ten years of reaching potential offenders before abuse happens",
            ["Lead clinician of a prevention programme", "Researcher in forensic psychology"],
            """
<p>The opening session presented a decade of a confidential prevention programme for people who are sexually
attracted to children and want help not to act on it. The programme was launched with a public awareness
campaign telling them that help exists, that it is free and that it is confidential.</p>
<p>Speakers described how people find the service: mostly through media campaigns and internet searches, a
growing number after seeing a warning message. Many had never been in contact with the police. Therapy
combines treatment with practical strategies to avoid situations and material that increase risk.</p>
""",
            [
                "People at risk of offending do come forward when help is anonymous and non-judgemental.",
                "Warning messages shown to people searching for abuse material can point them to help.",
                "Hotlines can help by sharing the search patterns they see in reports.",
            ],
        ),
        session(
            "Sextortion: a first look at research on reports",
            ["Research coordinator, hotline network", "Specialist investigator, national police"],
            """
<p>A first analysis of reports to hotlines and police that mention coercion with intimate images. Most cases
involved teenagers who were contacted on a social platform by someone posing as a peer, and moved to a private
messaging service within a short time. Threats to share images with family and friends were the main lever;
in a growing number of cases the demand was for money.</p>
<p>The investigator explained why young people should keep conversations as evidence and why paying rarely
ends the demands. Both speakers stressed that the young person must never be made to feel responsible.</p>
""",
            [
                "Record coercion consistently in hotline reports so trends can be compared across countries.",
                "Advice to young people: stop contact, do not pay, keep the evidence, tell someone, report.",
                "Fast removal of any shared image matters as much as the investigation.",
            ],
        ),
        session(
            "Hotlines, industry and law enforcement: making the collaboration work",
            [
                "Hotline manager",
                "Trust and safety lead at a hosting company",
                "Liaison officer, police cooperation centre",
            ],
            """
<p>A panel on the practical agreements behind fast removal: named contacts, agreed notice formats, preservation
of data for investigators and deconfliction rules that settle who acts first. The hosting company's speaker
explained why notices from hotlines are prioritised: they are consistently accurate.</p>
<p>The liaison officer described how referrals from hotlines across many countries help identify links
between cases that no single country would see.</p>
""",
            [
                "Agree deconfliction windows in writing so individual cases need no negotiation.",
                "Providers prioritise hotline notices because of their accuracy: protect that reputation.",
                "Approach small providers proactively; offenders favour those without abuse teams.",
            ],
        ),
    ],
}

ABOUT_BODY = [
    text("""
<p>The network brings together internet hotlines from many countries. Each hotline gives the public a safe,
anonymous way to report child sexual abuse material they come across online. Trained analysts assess every
report, and confirmed material is traced, referred to the police and removed at its source, usually by the
hotline in the country where it is hosted.</p>
<p>Hotlines do not work alone. Child-protection NGOs, technology companies, law enforcement and governments take
part in the network's work on prevention, victim support and the rapid removal of illegal content.</p>
"""),
    heading("What this portal is for"),
    text("""
<ul>
<li><b>Members</b> share best practice, conference notes and statistics, some of it for members only.</li>
<li><b>Partners and the public</b> read what the network has learned and subscribe to its newsletter.</li>
<li><b>Anyone who has found illegal content</b> is directed to the right place to report it.</li>
</ul>
"""),
    key_fact(
        HEADLINE_LABEL.split(", ", 1)[1].capitalize(),
        figure=HEADLINE_FIGURE,
        body="Measured across the network from the first report to confirmed removal.",
        source=f"Network statistics, {HEADLINE_YEAR}",
        tone="highlight",
    ),
    heading("What the network never does"),
    text("""
<p>This portal never hosts, accepts or links to abusive material. Reports are made to national hotlines, not
here, and nothing on this site asks anyone to send images.</p>
"""),
]

HOW_TO_REPORT_INTRO = (
    "If you have come across images or videos of child sexual abuse online, report the web address to your "
    "national hotline. Reporting is anonymous if you want it to be, and it gets the material removed."
)

HOW_TO_REPORT_BODY = [
    key_fact(
        "Do not download, forward, screenshot or investigate the material yourself",
        body="Copying or sharing abuse material is a crime in most countries, even when you mean well, and it "
             "spreads the harm. Report the web address only, then close the page.",
        tone="warning",
    ),
    heading("How to report"),
    text("""
<ol>
<li>Copy the web address (URL) of the page where you saw the material. Do not copy the material itself.</li>
<li>Go to your national hotline's reporting form. The "Where to report" page, behind the yellow Report
button at the top of every page, lists every member hotline and how to reach it.</li>
<li>Paste the address and describe briefly what you saw. You do not need to give your name.</li>
<li>Close the page. The hotline's analysts take it from there.</li>
</ol>
"""),
    table(
        "Where to report, depending on your situation",
        [
            ["Your situation", "Report to", "How"],
            ["You live in a country with a member hotline", "Your national hotline",
             "Its online reporting form, listed on the \"Where to report\" page"],
            ["There is no member hotline in your country", "Any member hotline or your national police",
             "Member hotlines pass reports on to the hotline or police where the material is hosted"],
            ["You saw the material on a platform or app", "Your national hotline and the platform",
             "The hotline's form, and the platform's own reporting tool"],
            ["A child is in immediate danger", "The police", "Call your emergency number (112 in the EU)"],
        ],
    ),
    heading("What happens to your report"),
    text("""
<p>An analyst assesses the report against national law. If the material is illegal, the hotline traces where
it is hosted, informs the police and makes sure the hosting provider removes it. In """ + str(HEADLINE_YEAR) + """,
member hotlines achieved removal of """ + HEADLINE_FIGURE + """ of reported illegal content within three days.</p>
<p>If you are worried about a child, or about your own thoughts or behaviour, confidential helplines can help.
Your national hotline can tell you where to find them.</p>
"""),
]

CONTACT_BODY = [
    text("""
<p>The network's secretariat answers questions from members, partners, researchers and the press.</p>
<ul>
<li><b>General enquiries:</b> <a href="mailto:secretariat@example.org">secretariat@example.org</a> (demo address)</li>
<li><b>Membership:</b> members may use the contact details in the member area.</li>
<li><b>Press:</b> <a href="mailto:press@example.org">press@example.org</a> (demo address)</li>
</ul>
"""),
    key_fact(
        "Do not send reports of illegal content to the secretariat",
        body="Report web addresses to your national hotline instead. Never send images or videos by email.",
        tone="warning",
    ),
]


# --- Seeding --------------------------------------------------------------------------------------------------


def seed(stdout=None) -> None:
    """Create the demo taxonomy, page tree and default site (idempotent: existing items are left as they are)."""
    out = stdout or sys.stdout
    with transaction.atomic():
        topics = _terms(Topic, TOPICS, out)
        sectors = _terms(Sector, SECTORS, out)
        images = _demo_images(out)
        home = _home_page(images, out)
        _default_site(home, out)
        _remove_welcome_page(out)
        # Top-level pages in menu order (Wagtail orders siblings by creation).
        best_practice = _seed_articles(home, topics, sectors, images, out)
        conferences = _seed_conference_notes(home, topics, sectors, out)
        report, about = _seed_standard_pages(home, out)
        _feature_on_home(home, [report, best_practice, conferences, about], out)


def _terms(model, rows, out) -> dict:
    """The demo's topics or sectors by slug, from (name, slug, description) rows: created when missing."""
    return {slug: _get_or_create(model, name, slug, description, out) for name, slug, description in rows}


def _tagged(item: dict, topics: dict, sectors: dict) -> dict:
    """An item's fields, with its topic and sector slugs turned into the demo's snippets."""
    return {**item, "topics": [topics[slug] for slug in item["topics"]],
            "sectors": [sectors[slug] for slug in item["sectors"]]}


def _seed_articles(home, topics: dict, sectors: dict, images: list, out) -> Page:
    best_practice = _page(
        home, ArticleIndexPage, out, slug="best-practices", title="Best practices", show_in_menus=True,
        intro="<p>What member hotlines and partners have learned about removal, prevention and cooperation.</p>",
    )
    for index, article in enumerate(ARTICLES):
        _page(best_practice, ArticlePage, out, social_image=images[index % len(images)] if images else None,
              **_tagged(article, topics, sectors))
    return best_practice


def _seed_conference_notes(home, topics: dict, sectors: dict, out) -> Page:
    conferences = _page(
        home, ConferenceIndexPage, out, slug="conference-notes", title="Conference notes", show_in_menus=True,
        intro="<p>Notes from conferences and network meetings: sessions, speakers and what to take away.</p>",
    )
    conference = _tagged(CONFERENCE, topics, sectors)
    conference["key_takeaways"] = [{"type": "takeaway", "value": item} for item in CONFERENCE["key_takeaways"]]
    _page(conferences, ConferenceNotesPage, out, **conference)
    return conferences


def _seed_standard_pages(home, out) -> tuple[Page, Page]:
    """How to report, about and contact; the first two are returned (the home page features them)."""
    # Not in the menu: the "Where to report" directory (portal.hotlines) is, and links here for the details.
    report = _page(home, StandardPage, out, slug="how-to-report", title="How to report illegal content",
                   intro=HOW_TO_REPORT_INTRO, body=HOW_TO_REPORT_BODY)
    about = _page(home, StandardPage, out, slug="about", title="About the network", show_in_menus=True,
                  intro="An international network of internet hotlines and partners working together against "
                        "child sexual abuse material online.",
                  body=ABOUT_BODY)
    _page(home, StandardPage, out, slug="contact", title="Contact", show_in_menus=True,
          intro="How to reach the network's secretariat.", body=CONTACT_BODY)
    return report, about


def _feature_on_home(home, pages: list[Page], out) -> None:
    if not home.featured_pages.exists():
        for order, page in enumerate(pages):
            HomeFeaturedPage.objects.create(home=home, page=page, sort_order=order)
        home.save_revision().publish()
        out.write("  featured pages set on the home page\n")


def _get_or_create(model, name: str, slug: str, description: str, out):
    obj, created = model.objects.get_or_create(slug=slug, defaults={"name": name, "description": description})
    if created:
        out.write(f"  created {model._meta.verbose_name} {name!r}\n")
    return obj


def _publish(page: Page) -> None:
    page.save_revision().publish()


def _page(parent: Page, model, out, *, slug: str, topics=None, sectors=None, **fields) -> Page:
    """The child of ``parent`` with ``slug``: created, validated and published if missing, else left as it is."""
    existing = parent.get_children().filter(slug=slug).first()
    if existing is not None:
        return existing.specific
    page = model(slug=slug, **fields)
    if topics is not None:
        page.topics = topics
    if sectors is not None:
        page.sectors = sectors
    parent.add_child(instance=page)  # Page.save() runs full_clean(), so invalid demo content fails loudly
    _publish(page)
    out.write(f"  created {model._meta.verbose_name} {page.title!r} at {page.get_url() or page.url_path}\n")
    return page


def _home_page(images, out) -> HomePage:
    """The single HomePage, replacing Wagtail's "Welcome to your new Wagtail site!" page."""
    home = HomePage.objects.first()
    if home is not None:
        return home
    root = Page.get_first_root_node()
    welcome = root.get_children().filter(slug="home").first()
    if welcome is not None:
        # Free the slug first; the welcome page is deleted once the site points at the new home page.
        welcome.slug = "wagtail-welcome"
        welcome.save(clean=False)
    home = HomePage(
        title="Hotline Network",
        slug="home",
        hero_title="Together against child sexual abuse material online",
        intro=HOME_INTRO,
        headline_stats=[{"type": "stat", "value": {"value": HEADLINE_FIGURE, "label": HEADLINE_LABEL,
                                                   "source": f"Network statistics, {HEADLINE_YEAR}"}}],
        listing_summary="The international network of internet hotlines against child sexual abuse material.",
        social_image=images[0] if images else None,
    )
    root.add_child(instance=home)
    _publish(home)
    out.write("  created the home page\n")
    return home


def _default_site(home: HomePage, out) -> None:
    """Point the default site at the home page (host and port from SITE_URL)."""
    hostname, port = _site_address()
    site = Site.objects.filter(is_default_site=True).first()
    wanted = {"hostname": hostname, "port": port, "root_page_id": home.id, "site_name": "Hotline Network Portal"}
    if site is None:
        Site.objects.create(is_default_site=True, **wanted)
        out.write(f"  created the default site {hostname}:{port}\n")
    elif any(getattr(site, key) != value for key, value in wanted.items()):
        for key, value in wanted.items():
            setattr(site, key, value)
        site.save()
        out.write(f"  default site now {hostname}:{port} with the home page as root\n")


def _site_address() -> tuple[str, int]:
    """The host name and port of SITE_URL (localhost, and the scheme's default port, when it names none)."""
    parts = urlsplit(settings.SITE_URL or "http://localhost")
    return parts.hostname or "localhost", parts.port or (443 if parts.scheme == "https" else 80)


def _remove_welcome_page(out) -> None:
    """Delete Wagtail's welcome page (renamed by ``_home_page``) once no site and no page depends on it."""
    root = Page.get_first_root_node()
    for welcome in root.get_children().filter(slug="wagtail-welcome", content_type__model="page"):
        if not welcome.get_children().exists() and not Site.objects.filter(root_page=welcome).exists():
            welcome.delete()
            out.write("  removed Wagtail's welcome page\n")


def _demo_images(out) -> list:
    """Four generated abstract images (circles and bands in the portal's palette) for social sharing."""
    Image = get_image_model()
    existing = {image.title: image for image in Image.objects.filter(title__in=IMAGE_TITLES)}
    if len(existing) == len(IMAGE_TITLES):
        return [existing[title] for title in IMAGE_TITLES]
    collection = _collection()
    images = []
    for number, title in enumerate(IMAGE_TITLES):
        image = existing.get(title)
        if image is None:
            image = Image(title=title, collection=collection)
            image.file = ImageFile(_shapes_png(number), name=f"demo-{title.split(': ')[1]}.png")
            image.save()
            out.write(f"  generated image {title!r}\n")
        images.append(image)
    return images


def _shapes_png(number: int) -> io.BytesIO:
    """Image ``number`` as PNG: nine circles and bands at places drawn from a generator seeded with ``number``,
    so every run draws the same image."""
    rng = random.Random(number)  # noqa: S311 - deterministic shapes, not security
    canvas = PILImage.new("RGB", (1200, 630), PALETTE[number % 2])
    draw = ImageDraw.Draw(canvas)
    for _ in range(9):
        x, y, r = rng.randint(0, 1200), rng.randint(0, 630), rng.randint(60, 260)
        colour = PALETTE[rng.randint(2, 4)]
        if rng.random() < 0.5:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        else:
            draw.rectangle((x - r, y - r // 3, x + r, y + r // 3), fill=colour)
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    buffer.seek(0)
    return buffer


def _collection() -> Collection:
    root = Collection.get_first_root_node()
    existing = root.get_children().filter(name=DEMO_COLLECTION).first()
    return existing or root.add_child(name=DEMO_COLLECTION)
