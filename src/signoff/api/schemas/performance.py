"""Performance: importing a channel export, and a brief's winners and losers."""

from typing import Literal

from ninja import Schema
from pydantic import Field


class PerformanceImportIn(Schema):
    # The export's text: date, channel, sku, variant, impressions, clicks, add_to_cart,
    # orders, revenue, spend (optional market, returns, rating). Problems name ``csv.COLUMN``
    # with the CSV's ``line``.
    csv: str = Field(min_length=1)
    brief: str | None = Field(None, max_length=100)  # match rows only to this brief's launches


class PerformanceImportOut(Schema):
    file: str
    sha256: str
    rows: int  # data rows in the file
    new_rows: int  # rows stored now: 0 when the same file was imported before
    unchanged: int  # rows already stored with the same values
    briefs: list[str]  # the briefs the rows measure
    learnings: int  # winners now in memory for those briefs
    import_id: int | None  # None when nothing was stored


class ArmOut(Schema):
    label: str
    trials: int
    successes: int
    rate: float
    low: float  # 95% Wilson interval
    high: float
    verdict: Literal["winner", "loser", "undecided", "too_little_data", "alone"]
    needed: int | None  # more trials this value needs for a verdict; null: cannot be sized
    z: float | None  # against the leader
    p_value: float | None


class ComparisonOut(Schema):
    metric: Literal["ctr", "conversion"]
    trial_unit: Literal["impressions", "clicks"]
    min_trials: int
    alpha: float
    winner: str | None
    needed: int | None
    verdict: str  # in words: the winner, or how much more data is needed
    arms: list[ArmOut]


class AttributeOut(Schema):
    attribute: Literal["variant", "lead", "title_length", "tone", "image"]
    label: str
    ctr: ComparisonOut
    conversion: ComparisonOut


class ChannelPerformanceOut(Schema):
    channel: str
    packages: int
    impressions: int
    clicks: int
    orders: int
    revenue: float
    spend: float
    ctr: float
    conversion: float
    attributes: list[AttributeOut]


class PerformanceReportOut(Schema):
    method: str
    channels: list[ChannelPerformanceOut]
