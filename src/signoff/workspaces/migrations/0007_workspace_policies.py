# Workspace policies (the workspace file's `policies:`), e.g. who an accepted suggested fix
# is recorded as made by.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("workspaces", "0006_workspace_destinations"),
    ]

    operations = [
        migrations.AddField(
            model_name="workspace",
            name="policies",
            field=models.JSONField(default=dict),
        ),
    ]
