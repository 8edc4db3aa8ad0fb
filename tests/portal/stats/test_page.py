"""The statistics page, CSV downloads, the home page headline, and restricted datasets."""

import csv
import io
import re
import xml.etree.ElementTree as ET

from portal.stats.models import Dataset
from tests.factories import UserFactory
from tests.portal.stats.conftest import add_observation, figures, make_dataset, make_stats_page


def csv_of(response):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_page_renders_every_chart_with_svg_table_and_csv_link(client, home, dataset):
    page = make_stats_page(home, dataset)
    response = client.get(page.url)
    assert response.status_code == 200
    html = response.content.decode()
    svgs = re.findall(r"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"stats-chart__svg[^\"]*\".*?</svg>", html,
                      re.S)
    # line (the network total, and Germany on its own scale), bar, stacked bars, country bars (KPI tiles are text)
    assert len(svgs) == 5
    for svg in svgs:
        ET.fromstring(svg)
    assert "91.0%" in html  # KPI tile and removal-time table
    assert "<caption" in html and html.count("Download these figures (CSV)") == 5
    assert "/statistics-data/datasets/network.csv" in html
    assert "css/stats.css" in html


def test_page_query_count_does_not_grow_with_observations(client, home, dataset, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    page = make_stats_page(home, dataset)
    counts = []
    for extra_years in (2, 200):  # 4 + 10 = 14 observations, then 4 + 1,000 = 1,004
        dataset.observations.filter(year__lt=1990).delete()
        for year in range(1800, 1800 + extra_years):
            for code in ["FR", "IE", "GB", "BE", "ES"]:
                add_observation(dataset, year, code, **figures(10, 5, 4, 3, 1, 0))
        client.get(page.url)  # warm per-process caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get(page.url)
        assert response.status_code == 200
        counts.append(len(queries))
    assert dataset.observations.count() == 1004
    assert counts[0] == counts[1]
    # The dataset, its observations and the measures are one query each; the rest is the site frame.
    assert counts[1] <= 20  # (with the language switcher and hreflang links of every page)


def test_dataset_csv_is_in_the_import_format(client, dataset):
    response = client.get("/statistics-data/datasets/network.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = csv_of(response)
    assert rows[0][:5] == ["period", "country", "organisation", "reports_received", "reports_illegal"]
    assert ["2014", "DE", "", "300", "150", "100", "90", "5", "5"] in rows


def test_chart_csv_has_the_chart_numbers(client, home, dataset):
    page = make_stats_page(home, dataset)
    removal = next(child for child in page.body if child.block_type == "removal_times")
    response = client.get(f"/statistics-data/charts/{page.pk}/{removal.id}.csv")
    assert response.status_code == 200
    assert csv_of(response) == [
        ["Period", "Within 3 days", "4 to 7 days", "Over 7 days"],
        ["2013", "0.7500", "0.1500", "0.1000"],
        ["2014", "0.9100", "0.0600", "0.0300"],
    ]
    assert client.get(f"/statistics-data/charts/{page.pk}/not-a-block.csv").status_code == 404


def test_restricted_dataset_is_invisible_to_anonymous_users_on_page_csv_and_chart_csv(client, home, members_only):
    page = make_stats_page(home, members_only, slug="members-statistics")
    chart = next(iter(page.body))
    urls = [page.url, "/statistics-data/datasets/members-figures.csv",
            f"/statistics-data/charts/{page.pk}/{chart.id}.csv"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"777" not in b"".join(getattr(response, "streaming_content", [response.content]))

    client.force_login(UserFactory())
    assert client.get(page.url).status_code == 200
    assert "777,777" in client.get(page.url).content.decode()
    assert "777777" in b"".join(client.get(urls[1]).streaming_content).decode()


def test_group_restricted_dataset_needs_the_group(client, home, django_user_model):
    from django.contrib.auth.models import Group

    group = Group.objects.create(name="Hotline analysts")
    ds = make_dataset("analysts", restriction=Dataset.GROUPS)
    ds.groups.add(group)
    add_observation(ds, 2014, **figures(1, 1, 1, 1, 0, 0))
    client.force_login(UserFactory())
    assert client.get("/statistics-data/datasets/analysts.csv").status_code == 404
    client.force_login(UserFactory(groups=[group]))
    assert client.get("/statistics-data/datasets/analysts.csv").status_code == 200


def test_home_headline_comes_from_the_latest_public_dataset(client, home, dataset, members_only):
    html = client.get(home.url).content.decode()
    assert "91%" in html and "1,200" in html and "Network statistics 2013-2014, 2014" in html
    # The members-only dataset has later figures, but never reaches the public home page, even for members.
    assert "777,777" not in html
    client.force_login(UserFactory())
    assert "777,777" not in client.get(home.url).content.decode()


def test_home_falls_back_to_editable_figures_without_a_public_dataset(client, db, members_only):
    import json

    from tests.factories import make_site_home

    home = make_site_home(
        headline_stats=json.dumps([{"type": "stat", "value": {"value": "42%", "label": "typed by editors",
                                                                "source": "2014"}}])
    )
    html = client.get(home.url).content.decode()
    assert "typed by editors" in html and "777,777" not in html


def test_page_of_a_restricted_dataset_is_restricted_too_so_sitemap_and_search_skip_it(client, home, dataset,
                                                                                      members_only):
    from wagtail.models import PageViewRestriction

    make_stats_page(home, dataset, slug="public-statistics")
    page = make_stats_page(home, members_only, slug="members-statistics")
    assert PageViewRestriction.objects.get(page=page).restriction_type == PageViewRestriction.LOGIN
    sitemap = client.get("/sitemap.xml").content.decode()
    assert "/public-statistics/" in sitemap
    assert "/members-statistics/" not in sitemap


def test_restricting_a_dataset_later_restricts_its_pages(home, dataset):
    from wagtail.models import PageViewRestriction

    page = make_stats_page(home, dataset)
    assert not PageViewRestriction.objects.filter(page=page).exists()
    dataset.restriction = Dataset.LOGIN
    dataset.save()
    assert PageViewRestriction.objects.filter(page=page, restriction_type="login").exists()


def test_chart_csv_names_countries_in_the_readers_language_and_says_it_varies(client, home, dataset):
    page = make_stats_page(home, dataset)
    by_country = next(child for child in page.body if child.block_type == "country_table")
    url = f"/statistics-data/charts/{page.pk}/{by_country.id}.csv"
    english, french = client.get(url, HTTP_ACCEPT_LANGUAGE="en"), client.get(url, HTTP_ACCEPT_LANGUAGE="fr")
    assert [row[0] for row in csv_of(english)[1:]] == ["Germany", "Netherlands"]
    assert [row[0] for row in csv_of(french)[1:]] == ["Allemagne", "Pays-Bas"]
    for response in (english, french):  # a shared cache must not hand one reader's language to another
        assert {"Accept-Language", "Cookie"} <= {value.strip() for value in response["Vary"].split(",")}
