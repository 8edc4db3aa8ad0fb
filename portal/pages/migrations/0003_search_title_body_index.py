"""A GIN index on the expression Wagtail's PostgreSQL search filters on (``title || body`` of the search index).

Wagtail's database backend searches ``(title || body) @@ query``; its own GIN indexes are on ``title`` and
``body`` separately, which PostgreSQL cannot use for that expression, so every search read every index entry.
PostgreSQL only: other databases have their own full-text tables.
"""

from django.db import migrations

INDEX = "portal_search_title_body_gin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {INDEX} ON wagtailsearch_indexentry USING gin (("title" || "body"))'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("pages", "0002_body_related_page_and_signup_blocks"),
        ("wagtailsearch", "0010_add_text_fields"),
    ]

    operations = [migrations.RunPython(create, drop)]
