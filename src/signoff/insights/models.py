"""Channel performance of launched packages, and what it taught (winners with their numbers).

A performance row measures one launched package version on one day. Its key is the package and
the date: importing the same export again finds every key present and stores nothing.
"""

from __future__ import annotations

from django.db import models

from signoff.briefs.models import Brief
from signoff.packages.models import Package, Version
from signoff.workspaces.models import Workspace


class PerformanceImport(models.Model):
    """One performance file that stored at least one new row (a re-import stores nothing)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    brief = models.ForeignKey(Brief, null=True, blank=True, on_delete=models.CASCADE)  # --brief
    person = models.EmailField()
    file_name = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)  # of the file's bytes
    rows = models.PositiveIntegerField()  # data rows in the file
    new_rows = models.PositiveIntegerField()  # rows stored by this import
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.file_name} ({self.new_rows} new rows)"


class PerformanceRow(models.Model):
    """One day of one launched package version on its channel."""

    source = models.ForeignKey(PerformanceImport, on_delete=models.CASCADE, related_name="+")
    package = models.ForeignKey(Package, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(Version, on_delete=models.CASCADE, related_name="+")  # launched
    brief = models.ForeignKey(Brief, on_delete=models.CASCADE, related_name="+")  # for reports
    date = models.DateField()
    line = models.PositiveIntegerField()  # where in the source file, for provenance
    impressions = models.BigIntegerField()
    clicks = models.BigIntegerField()
    add_to_cart = models.BigIntegerField()
    orders = models.BigIntegerField()
    # Money in cents: exact, and an integer needs no per-row decimal conversion on insert.
    revenue_cents = models.BigIntegerField()
    spend_cents = models.BigIntegerField()
    returns = models.BigIntegerField(null=True, blank=True)  # optional column
    rating = models.FloatField(null=True, blank=True)  # optional column, 0-5

    # The columns of the value tuples the import writes (``signoff.core.rows.insert_rows``).
    ROW_COLUMNS = (
        "source_id",
        "package_id",
        "version_id",
        "brief_id",
        "date",
        "line",
        "impressions",
        "clicks",
        "add_to_cart",
        "orders",
        "revenue_cents",
        "spend_cents",
        "returns",
        "rating",
    )
    # What must be equal for a re-imported row to be "the same row".
    COMPARED = ROW_COLUMNS[6:]

    class Meta:
        constraints = [
            # The idempotency key: one row per launched package and day.
            models.UniqueConstraint(fields=["package", "date"], name="performance_once_per_day")
        ]
        indexes = [models.Index(fields=["brief", "date"], name="performance_brief_date")]

    def __str__(self) -> str:
        return f"package {self.package_id} on {self.date}"


class Learning(models.Model):
    """A winner the numbers support: which value of a content attribute won, on which channel,
    by how much and on how much data. Recomputed for a brief at each import; the enricher
    proposes these for the next brief and the drafter's prompt cites them."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    brief = models.ForeignKey(Brief, on_delete=models.CASCADE, related_name="learnings")
    channel = models.CharField(max_length=100)
    attribute = models.CharField(max_length=30)  # variant | lead | title_length | tone | image
    metric = models.CharField(max_length=20)  # ctr | conversion
    winner = models.CharField(max_length=300)
    runner_up = models.CharField(max_length=300)
    numbers = models.JSONField()  # both arms' trials, successes, rates, intervals; z, p
    text = models.TextField()  # the reason, with the numbers, as people and prompts read it
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["brief", "channel", "attribute", "metric"]
        indexes = [models.Index(fields=["workspace", "channel"], name="learning_channel")]

    def __str__(self) -> str:
        return self.text
