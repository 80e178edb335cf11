# The outbox: a delivery per package version and destination, and each attempt at it.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('briefs', '0003_notes_parse'),
        ('packages', '0006_refusal_window'),
    ]

    operations = [
        migrations.CreateModel(
            name='Delivery',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('channel', models.CharField(max_length=100)),
                ('destination', models.CharField(max_length=100)),
                ('kind', models.CharField(max_length=30)),
                ('state', models.CharField(choices=[('pending', 'Pending'), ('delivered', 'Delivered'), ('failed', 'Failed'), ('dead', 'Dead'), ('needs_takedown', 'Needs Takedown'), ('taken_down', 'Taken Down')], default='pending', max_length=20)),
                ('idempotency_key', models.CharField(max_length=64, unique=True)),
                ('document', models.JSONField()),
                ('attempts', models.PositiveIntegerField(default=0)),
                ('next_attempt_at', models.DateTimeField(blank=True, null=True)),
                ('lease_owner', models.CharField(blank=True, max_length=80)),
                ('lease_until', models.DateTimeField(blank=True, null=True)),
                ('last_status', models.PositiveSmallIntegerField(blank=True, null=True)),
                ('last_error', models.TextField(blank=True)),
                ('receiver_id', models.CharField(blank=True, max_length=500)),
                ('takedown_reason', models.TextField(blank=True)),
                ('delivered_at', models.DateTimeField(blank=True, null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('brief', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='briefs.brief')),
                ('package', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='packages.package')),
                ('version', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='deliveries', to='packages.version')),
            ],
            options={
                'ordering': ['id'],
            },
        ),
        migrations.CreateModel(
            name='Attempt',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.PositiveIntegerField()),
                ('action', models.CharField(default='publish', max_length=20)),
                ('outcome', models.CharField(max_length=20)),
                ('status', models.PositiveSmallIntegerField(blank=True, null=True)),
                ('error', models.TextField(blank=True)),
                ('receiver_id', models.CharField(blank=True, max_length=500)),
                ('worker', models.CharField(blank=True, max_length=80)),
                ('started_at', models.DateTimeField()),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('delivery', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='tries', to='outbox.delivery')),
            ],
            options={
                'ordering': ['delivery', 'id'],
            },
        ),
        migrations.AddIndex(
            model_name='delivery',
            index=models.Index(fields=['state', 'next_attempt_at'], name='delivery_due'),
        ),
        migrations.AddIndex(
            model_name='delivery',
            index=models.Index(fields=['brief', 'channel'], name='delivery_brief_channel'),
        ),
        migrations.AddConstraint(
            model_name='delivery',
            constraint=models.UniqueConstraint(fields=('version', 'destination'), name='delivery_once_per_version_destination'),
        ),
    ]
