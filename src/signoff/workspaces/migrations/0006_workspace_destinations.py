# Where a workspace's launches are delivered (the workspace file's `destinations:`).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("workspaces", "0005_apitoken_expiry_and_revocation"),
    ]

    operations = [
        migrations.AddField(
            model_name="workspace",
            name="destinations",
            field=models.JSONField(default=list),
        ),
    ]
