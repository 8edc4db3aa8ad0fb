"""Ship the measures the network reports on. New measures are added as rows, not schema changes."""

from django.db import migrations

MEASURES = [
    ("reports_received", "Reports received", "reports", "Public reports received by hotlines.", 10),
    ("reports_illegal", "Reports assessed as illegal", "reports",
     "Reports that analysts assessed as child sexual abuse material under the applicable law.", 20),
    ("items_removed", "Items removed", "items", "Items of illegal content confirmed as removed.", 30),
    ("removed_within_3_days", "Removed within 3 days", "items",
     "Items removed within three days of the report reaching the hotline.", 40),
    ("removed_4_to_7_days", "Removed in 4 to 7 days", "items", "Items removed four to seven days after the report.", 50),
    ("removed_over_7_days", "Removed after more than 7 days", "items",
     "Items removed more than seven days after the report.", 60),
]


def add_measures(apps, schema_editor):
    Measure = apps.get_model("stats", "Measure")
    for code, label, unit, description, order in MEASURES:
        Measure.objects.update_or_create(
            code=code, defaults={"label": label, "unit": unit, "description": description, "sort_order": order}
        )


def remove_measures(apps, schema_editor):
    apps.get_model("stats", "Measure").objects.filter(code__in=[m[0] for m in MEASURES]).delete()


class Migration(migrations.Migration):
    dependencies = [("stats", "0001_initial")]

    operations = [migrations.RunPython(add_measures, remove_measures)]
