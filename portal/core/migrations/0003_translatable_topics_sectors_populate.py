"""Topics and sectors become translatable, step 2 of 3: every existing row is in the default language and
gets its own translation key."""

import uuid

from django.conf import settings
from django.db import migrations


def populate(apps, schema_editor):
    Locale = apps.get_model("wagtailcore", "Locale")
    locale = Locale.objects.filter(language_code=settings.LANGUAGE_CODE).first()
    if locale is None:
        locale = Locale.objects.order_by("id").first() or Locale.objects.create(language_code=settings.LANGUAGE_CODE)
    for model_name in ("Topic", "Sector"):
        model = apps.get_model("core", model_name)
        for term in model.objects.filter(translation_key__isnull=True):
            term.translation_key = uuid.uuid4()
            term.locale_id = locale.pk
            term.save(update_fields=["translation_key", "locale"])


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0002_translatable_topics_sectors_add_fields"),
    ]

    operations = [
        migrations.RunPython(populate, migrations.RunPython.noop),
    ]
