"""Reads: the launched packages a performance file can measure, a brief's winners and losers
per channel and content attribute, rates over time, and the learnings memory hands on."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Sum

from signoff.briefs.models import Brief, BriefVersion
from signoff.delivery.models import Launch
from signoff.insights import stats
from signoff.insights.attributes import ATTRIBUTES, attributes_of
from signoff.insights.csvfile import Target
from signoff.insights.models import Learning, PerformanceRow
from signoff.packages.models import Package, Version

# The minimum sample per arm before any verdict: below it the page says how much is missing.
MIN_IMPRESSIONS = 1000  # for click-through (clicks / impressions)
MIN_CLICKS = 200  # for conversion (orders / clicks)
LEARNINGS_PER_CHANNEL = 5  # what a draft cites, newest brief first


def launch_index(workspace_id: int, brief_id: int | None = None) -> dict[tuple, list[Target]]:
    """Return (channel, sku, variant) -> the launched package versions of the workspace (or
    of one brief), each with its market and launch day."""
    launches = Launch.objects.filter(brief__workspace_id=workspace_id)
    if brief_id is not None:
        launches = launches.filter(brief_id=brief_id)
    launched_on: dict[int, date] = {}
    for packages, at in launches.values_list("packages", "created_at"):
        for package_id in packages:
            launched_on[package_id] = at.date()
    index: dict[tuple, list[Target]] = defaultdict(list)
    rows = Package.objects.filter(
        pk__in=list(launched_on), state=Package.State.PUBLISHED
    ).values_list("pk", "channel", "sku", "variant", "market", "current_version_id", "brief_id")
    for pk, channel, sku, variant, market, version_id, brief_id in rows.iterator(chunk_size=2000):
        index[(channel, sku, variant)].append(
            Target(market, launched_on[pk], pk, version_id, brief_id)
        )
    return dict(index)


@dataclass
class AttributeReport:
    attribute: str
    ctr: stats.Comparison
    conversion: stats.Comparison


@dataclass
class ChannelReport:
    channel: str
    packages: int
    impressions: int
    clicks: int
    orders: int
    revenue_cents: int
    spend_cents: int
    attributes: list[AttributeReport] = field(default_factory=list)

    @property
    def ctr(self) -> float:
        return self.clicks / self.impressions if self.impressions else 0.0

    @property
    def conversion(self) -> float:
        return self.orders / self.clicks if self.clicks else 0.0


def _image_labels(image_ids: Iterable[int]) -> dict[int, str]:
    from signoff.visuals.models import ImageVersion

    labels = {}
    for pk, number, hypothesis, run_hypothesis in ImageVersion.objects.filter(
        pk__in=set(image_ids)
    ).values_list("pk", "number", "hypothesis", "run__hypothesis"):
        labels[pk] = (hypothesis or run_hypothesis or f"option {number}").strip()
    return labels


def _main_image(images: dict | None) -> int | None:
    if not images:
        return None
    first = images[sorted(images)[0]]
    return first.get("image") if isinstance(first, dict) else None


def brief_report(brief: Brief) -> list[ChannelReport]:
    """Return, per channel with performance rows, the totals and, per content attribute,
    click-through and conversion compared across its values (see ``signoff.insights.stats``)."""
    sums = (
        PerformanceRow.objects.filter(brief=brief)
        .values("version_id")
        .annotate(
            impressions=Sum("impressions"),
            clicks=Sum("clicks"),
            orders=Sum("orders"),
            revenue=Sum("revenue_cents"),
            spend=Sum("spend_cents"),
        )
        .order_by()
    )
    totals = {row["version_id"]: row for row in sums}
    if not totals:
        return []
    versions = list(
        Version.objects.filter(pk__in=list(totals)).values(
            "pk",
            "fields",
            "origin",
            "images",
            "brief_version_id",
            "package__channel",
            "package__variant",
        )
    )
    brief_versions = {v["brief_version_id"] for v in versions}
    messages = dict(BriefVersion.objects.filter(pk__in=brief_versions).values_list("pk", "data"))
    images = _image_labels(i for v in versions if (i := _main_image(v["images"])) is not None)
    by_channel: dict[str, list[tuple[dict, dict[str, str | None]]]] = defaultdict(list)
    for v in versions:
        channel = v["package__channel"]
        data = messages[v["brief_version_id"]]
        keys = [*data.get("key_messages", []), *data.get("channel_messages", {}).get(channel, [])]
        image = _main_image(v["images"])
        values = attributes_of(
            variant=v["package__variant"],
            fields=v["fields"],
            origin=v["origin"],
            key_messages=keys,
            image=images.get(image) if image is not None else None,
        )
        by_channel[channel].append((totals[v["pk"]], values))
    reports = []
    for channel in sorted(by_channel):
        measured = by_channel[channel]
        report = ChannelReport(
            channel,
            len(measured),
            *(sum(t[k] for t, _ in measured) for k in ("impressions", "clicks", "orders")),
            sum(t["revenue"] for t, _ in measured),
            sum(t["spend"] for t, _ in measured),
        )
        for attribute in ATTRIBUTES:
            arms: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
            for total, values in measured:
                if values[attribute] is None:
                    continue
                arm = arms[values[attribute]]
                arm[0] += total["impressions"]
                arm[1] += total["clicks"]
                arm[2] += total["orders"]
            report.attributes.append(
                AttributeReport(
                    attribute,
                    stats.compare(
                        "ctr",
                        "impressions",
                        [stats.Arm(k, i, c) for k, (i, c, _) in arms.items()],
                        min_trials=MIN_IMPRESSIONS,
                    ),
                    stats.compare(
                        "conversion",
                        "clicks",
                        [stats.Arm(k, c, o) for k, (_, c, o) in arms.items()],
                        min_trials=MIN_CLICKS,
                    ),
                )
            )
        reports.append(report)
    return reports


def daily_rates(brief: Brief, channel: str) -> dict[str, list[tuple[date, int, int, int]]]:
    """Return, per variant of one channel, (date, impressions, clicks, orders) by day."""
    rows = (
        PerformanceRow.objects.filter(brief=brief, package__channel=channel)
        .values("date", "package__variant")
        .annotate(i=Sum("impressions"), c=Sum("clicks"), o=Sum("orders"))
        .order_by("date")
    )
    series: dict[str, list[tuple[date, int, int, int]]] = defaultdict(list)
    for row in rows:
        series[row["package__variant"]].append((row["date"], row["i"], row["c"], row["o"]))
    return dict(series)


def learnings_for(workspace_id: int, channels: Iterable[str]) -> dict[str, list[str]]:
    """Return, per channel, the newest winners' reasons (with their numbers), for drafts."""
    chosen: dict[str, list[str]] = {}
    channels = list(channels)
    for learning in Learning.objects.filter(
        workspace_id=workspace_id, channel__in=channels
    ).order_by("-created_at", "-id")[: LEARNINGS_PER_CHANNEL * max(1, len(channels)) * 4]:
        listed = chosen.setdefault(learning.channel, [])
        if len(listed) < LEARNINGS_PER_CHANNEL and learning.text not in listed:
            listed.append(learning.text)
    return chosen
