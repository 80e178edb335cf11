# SLA reminders and escalations (the workspace file's `notifications:`), the metrics' manual
# baseline (`metrics:`), and each person's daily-digest opt-in (`people[].digest`).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("workspaces", "0007_workspace_policies"),
    ]

    operations = [
        migrations.AddField(
            model_name="workspace",
            name="notifications",
            field=models.JSONField(default=dict),
        ),
        migrations.AddField(
            model_name="workspace",
            name="metrics",
            field=models.JSONField(default=dict),
        ),
        migrations.AddField(
            model_name="person",
            name="digest",
            field=models.BooleanField(default=False),
        ),
    ]
