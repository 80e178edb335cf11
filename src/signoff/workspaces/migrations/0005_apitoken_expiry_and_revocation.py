# API tokens expire, and say who revoked them and why.
#
# Tokens issued before this migration never expired; each now expires 90 days (the default
# of SIGNOFF_TOKEN_DAYS) after it was issued, so an old token stops working as if it had been
# issued with an expiry. Tokens of people no longer active are revoked at the next
# `signoff load` of their workspace, with an audit event (see workspaces.services).

from datetime import timedelta

from django.db import migrations, models

LEGACY_DAYS = 90


def give_expiry(apps, schema_editor):
    ApiToken = apps.get_model("workspaces", "ApiToken")
    for token in ApiToken.objects.filter(expires_at__isnull=True).only("id", "created_at"):
        token.expires_at = token.created_at + timedelta(days=LEGACY_DAYS)
        token.save(update_fields=["expires_at"])


class Migration(migrations.Migration):

    dependencies = [
        ("workspaces", "0004_workspace_providers"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="apitoken",
            options={"ordering": ["-created_at", "-id"]},
        ),
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(give_expiry, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="revoked_by",
            field=models.CharField(blank=True, max_length=255),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="revoked_reason",
            field=models.CharField(blank=True, max_length=200),
        ),
    ]
