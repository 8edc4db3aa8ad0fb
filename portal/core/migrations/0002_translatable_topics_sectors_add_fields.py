"""Topics and sectors become translatable, step 1 of 3 (Wagtail's documented pattern for existing rows):
add ``locale`` and ``translation_key`` as nullable fields, and drop the site-wide unique names and slugs
(they become unique per language in step 3)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0001_initial"),
        ("wagtailcore", "0094_alter_page_locale"),
    ]

    operations = [
        migrations.AddField(
            model_name=model,
            name="locale",
            field=models.ForeignKey(
                null=True, editable=False, on_delete=django.db.models.deletion.PROTECT, related_name="+",
                to="wagtailcore.locale", verbose_name="locale",
            ),
        )
        for model in ("topic", "sector")
    ] + [
        migrations.AddField(
            model_name=model, name="translation_key", field=models.UUIDField(null=True, editable=False),
        )
        for model in ("topic", "sector")
    ] + [
        migrations.AlterField(model_name=model, name="name", field=models.CharField(max_length=100))
        for model in ("topic", "sector")
    ] + [
        migrations.AlterField(
            model_name=model, name="slug",
            field=models.SlugField(help_text="Used in URLs, e.g. ?topic=prevention", max_length=100),
        )
        for model in ("topic", "sector")
    ]
