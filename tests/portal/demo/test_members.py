"""The members demo seed: organisations, demo members, restricted pages and a private document, idempotently."""

import io

from django.contrib.auth import get_user_model

from wagtail.documents import get_document_model
from wagtail.models import PageViewRestriction

from portal.demo import members as demo
from portal.demo import pages as pages_demo
from portal.members.models import Organisation


def test_seed_is_idempotent_and_prints_credentials(db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    pages_demo.seed(io.StringIO())
    out = io.StringIO()
    demo.seed(out)
    demo.seed(io.StringIO())

    assert Organisation.objects.count() == 10
    assert set(Organisation.objects.values_list("sector__slug", flat=True)) == {
        "government", "hotline", "industry", "law-enforcement", "ngo",
    }
    police = get_user_model().objects.get(username="demo-law-enforcement")
    assert set(police.groups.values_list("name", flat=True)) == {"Members", "Law enforcement"}
    assert "demo-law-enforcement" in out.getvalue() and demo.DEMO_PASSWORD in out.getvalue()
    types = sorted(PageViewRestriction.objects.values_list("restriction_type", flat=True))
    assert types == ["groups", "login"]
    assert get_document_model().objects.filter(collection__name="Members' documents").count() == 1
