"""A document link on a public page never shows a restricted document's title to those who may not open it."""

import json

from django.core.files.base import ContentFile

from wagtail.documents import get_document_model
from wagtail.models import Collection

from tests.factories import StandardPageFactory, UserFactory


def document(title: str, collection: Collection):
    return get_document_model().objects.create(
        title=title, collection=collection, file=ContentFile(b"notes", name=f"{title.lower().replace(' ', '-')}.txt")
    )


def test_document_link_is_shown_only_to_viewers_who_may_open_it(client, home):
    private = document("Takedown escalation contacts", Collection.objects.get(name="Members' documents"))
    public = document("Annual report summary", Collection.get_first_root_node())
    body = json.dumps([
        {"type": "document", "value": {"document": private.pk, "title": "", "description": ""}},
        {"type": "document", "value": {"document": public.pk, "title": "", "description": ""}},
    ])
    page = StandardPageFactory(parent=home, title="Resources", body=body)

    anonymous = client.get(page.url).content.decode()
    assert "Annual report summary" in anonymous
    assert "Takedown escalation contacts" not in anonymous

    client.force_login(UserFactory())
    member = client.get(page.url).content.decode()
    assert "Takedown escalation contacts" in member and "Annual report summary" in member
