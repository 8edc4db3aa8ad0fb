"""Topics and sectors become translatable, step 3 of 3: ``locale`` and ``translation_key`` required, with
one row per term and language, and names and slugs unique within a language."""

import uuid

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0003_translatable_topics_sectors_populate"),
    ]

    operations = [
        migrations.AlterField(
            model_name=model,
            name="locale",
            field=models.ForeignKey(
                editable=False, on_delete=django.db.models.deletion.PROTECT, related_name="+",
                to="wagtailcore.locale", verbose_name="locale",
            ),
        )
        for model in ("topic", "sector")
    ] + [
        migrations.AlterField(
            model_name=model, name="translation_key", field=models.UUIDField(default=uuid.uuid4, editable=False),
        )
        for model in ("topic", "sector")
    ] + [
        migrations.AlterUniqueTogether(
            name=model, unique_together={("translation_key", "locale"), ("slug", "locale"), ("name", "locale")},
        )
        for model in ("topic", "sector")
    ]
