# Issue 14: a package with no draft has no confidence score (None, shown as "—"), not a number.
# Packages stored before that (blocked for missing data before their first draft) lose theirs;
# drafted packages keep theirs until their next version is scored by the new definition.

from django.db import migrations


def clear_scores_without_a_draft(apps, schema_editor):
    Package = apps.get_model("packages", "Package")
    Package.objects.filter(current_version__isnull=True).exclude(confidence=None).update(
        confidence=None
    )


class Migration(migrations.Migration):
    dependencies = [("packages", "0006_refusal_window")]

    operations = [
        migrations.RunPython(clear_scores_without_a_draft, migrations.RunPython.noop),
    ]
