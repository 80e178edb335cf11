"""Reading a channel performance export: columns, values, and the launched package each row
measures. Pure: no Django; the launched packages come in as an index.

Every problem is located (``file:line: column: expected ...``) and the whole file is refused
when any row has one; the caller stores nothing then.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from signoff.core.errors import InputError, Problem

REQUIRED = (
    "date",
    "channel",
    "sku",
    "variant",
    "impressions",
    "clicks",
    "add_to_cart",
    "orders",
    "revenue",
    "spend",
)
OPTIONAL = ("market", "returns", "rating")
COUNTS = ("impressions", "clicks", "add_to_cart", "orders")
MONEY = ("revenue", "spend")
MAX_PROBLEMS = 100  # listed; the rest are counted
LARGEST = 10**15  # counts at or above this are refused (a 64-bit column, with room for sums)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class Target:
    """A launched package version a row can measure."""

    market: str
    launched_on: date
    package_id: int
    version_id: int
    brief_id: int


# (channel, sku, variant) -> the launched packages of that cell, one per market and brief.
LaunchIndex = Mapping[tuple[str, str, str], Sequence[Target]]


@dataclass(slots=True)
class Parsed:
    """The file's rows as value tuples: (package_id, version_id, brief_id, date, line,
    impressions, clicks, add_to_cart, orders, revenue_cents, spend_cents, returns, rating)."""

    rows: list[tuple]
    count: int  # data rows read


class _Problems:
    def __init__(self, file: str) -> None:
        self.file = file
        self.listed: list[Problem] = []
        self.more = 0

    def add(self, line: int, column: str | None, message: str) -> None:
        if len(self.listed) < MAX_PROBLEMS:
            self.listed.append(Problem(message, file=self.file, line=line, field=column))
        else:
            self.more += 1

    def raise_any(self) -> None:
        if not self.listed:
            return
        problems = list(self.listed)
        if self.more:
            problems.append(Problem(f"and {self.more} more problems", file=self.file))
        raise InputError(problems)


def _cents(text: str) -> int | None:
    """An amount such as ``12.50`` in cents; None unless it is digits with at most two
    decimals. (No regular expression: this runs twice per row of a million-row file.)"""
    whole, dot, fraction = text.partition(".")
    if not whole.isdecimal() or len(whole) > 15:
        return None
    if dot:
        if not fraction.isdecimal() or len(fraction) > 2:
            return None
        return int(whole) * 100 + int(fraction.ljust(2, "0"))
    return int(whole) * 100


def _day(text: str) -> date | None:
    if not _DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _listed(values: Iterable[str], limit: int = 8) -> str:
    values = sorted(set(values))
    more = f" (and {len(values) - limit} more)" if len(values) > limit else ""
    return ", ".join(values[:limit]) + more or "none"


def _unreadable(error: csv.Error) -> str:
    """What to say at the row the csv module gives up on (the rest is not read)."""
    said = f"expected CSV values, got a row the CSV reader cannot read ({error})"
    if "field limit" in str(error):  # a quote opened and never closed swallows what follows
        said += "; is a quote opened on this line never closed?"
    return said


def read(text: str, file: str, index: LaunchIndex, brief_id: int | None = None) -> Parsed:
    """Parse and match every row of ``text``; raise InputError naming each problem.

    ``index`` holds every launch of the workspace: a day belongs to the latest launch of its
    cell on or before it whatever ``brief_id`` says, so a row has the same identity (package,
    date) with or without it. With ``brief_id`` only that brief's cells are accepted, and a day
    that belongs to another brief's launch of the cell is refused.
    """
    problems = _Problems(file)
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        problems.add(1, None, _unreadable(exc))
        problems.raise_any()
    if not header or not any(h.strip() for h in header):
        problems.add(1, None, f"expected a header row with the columns {', '.join(REQUIRED)}")
        problems.raise_any()
    names = [h.strip().lower() for h in header]
    for position, name in enumerate(names, 1):
        if name not in REQUIRED and name not in OPTIONAL:
            problems.add(
                1,
                name or f"column {position}",
                f"expected one of the columns {', '.join((*REQUIRED, *OPTIONAL))}",
            )
        elif names.index(name) != position - 1:
            problems.add(1, name, "expected each column once; this one is repeated")
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        problems.add(1, None, f"expected the columns {', '.join(missing)} (missing)")
    problems.raise_any()
    at = {name: names.index(name) for name in names}
    width = len(names)
    every: LaunchIndex | None = None
    if brief_id is not None:  # the brief's launches name the cells; every launch dates the days
        every = index
        index = {
            cell: mine
            for cell, launches in index.items()
            if (mine := [t for t in launches if t.brief_id == brief_id])
        }
    channels = {channel for channel, _, _ in index}
    skus: dict[str, set[str]] = {}
    variants: dict[tuple[str, str], set[str]] = {}
    for channel, sku, variant in index:
        skus.setdefault(channel, set()).add(sku)
        variants.setdefault((channel, sku), set()).add(variant)
    i_date, i_channel, i_sku, i_variant = at["date"], at["channel"], at["sku"], at["variant"]
    i_impressions, i_clicks, i_carts, i_orders = (at[name] for name in COUNTS)
    i_revenue, i_spend = at["revenue"], at["spend"]
    i_market, i_returns, i_rating = at.get("market"), at.get("returns"), at.get("rating")
    optional = i_returns is not None or i_rating is not None
    dates: dict[str, date | None] = {}
    # The launches a cell's rows can measure (oldest first), or why nothing matched; keyed by
    # the cell as written, so a million rows of 2,000 cells match 2,000 times.
    targets: dict[tuple, list[Target] | tuple[str, str]] = {}
    seen: dict[tuple[int, date], int] = {}  # (package, date) -> line, for duplicates
    rows: list[tuple] = []
    count = 0
    end = reader.line_num  # the physical line the header ends on
    try:
        for record in reader:
            # A quoted value may span lines: a record is located by the line it starts on.
            line, end = end + 1, reader.line_num
            if not record:
                continue  # a blank line
            count += 1
            if len(record) != width:
                problems.add(line, None, f"expected {width} values, got {len(record)}")
                continue
            raw_date = record[i_date]
            day = dates.get(raw_date, False)
            if day is False:
                day = dates[raw_date] = _day(raw_date.strip())
            # The common case first, unrolled: every value well-formed as written.
            impressions, clicks, carts, orders = (
                record[i_impressions],
                record[i_clicks],
                record[i_carts],
                record[i_orders],
            )
            values = None
            if (
                day is not None
                and not optional
                and impressions.isdecimal()
                and clicks.isdecimal()
                and carts.isdecimal()
                and orders.isdecimal()
            ):
                revenue, spend = record[i_revenue], record[i_spend]
                # Amounts with two decimals, inline (a call per value costs more than the work).
                if (
                    revenue[-3:-2] == "."
                    and (digits := revenue[:-3] + revenue[-2:]).isdecimal()
                    and len(digits) <= 17
                ):
                    revenue = int(digits)
                else:
                    revenue = _cents(revenue)
                if (
                    spend[-3:-2] == "."
                    and (digits := spend[:-3] + spend[-2:]).isdecimal()
                    and len(digits) <= 17
                ):
                    spend = int(digits)
                else:
                    spend = _cents(spend)
                impressions, clicks, orders = int(impressions), int(clicks), int(orders)
                if (
                    revenue is not None
                    and spend is not None
                    and clicks <= impressions
                    and orders <= clicks
                    and impressions < LARGEST
                    and (carts := int(carts)) < LARGEST
                ):
                    values = (impressions, clicks, carts, orders, revenue, spend, None, None)
            if values is None:
                # Anything else: read each value again, stripped, and say what is wrong with it.
                values = _values(record, line, at, problems)
            market = record[i_market] if i_market is not None else ""
            key = (record[i_channel], record[i_sku], record[i_variant], market)
            target = targets.get(key)
            if target is None:
                target = targets[key] = _match(key, index, channels, skus, variants, every)
            if isinstance(target, tuple):
                column, message = target
                problems.add(line, column, message)
                continue
            if day is None:
                problems.add(line, "date", f"expected a date as YYYY-MM-DD, got {raw_date!r}")
                continue
            if values is None:
                continue
            # The launch a day measures: the latest one on or before it (a later brief that
            # launched the same cell again takes over from its launch day).
            launch = target[-1]
            if day < launch.launched_on:
                launch = next((t for t in reversed(target) if t.launched_on <= day), None)
                if launch is None:
                    problems.add(
                        line,
                        "date",
                        f"expected a date on or after the launch of {key[1].strip()} on "
                        f"{key[0].strip()} ({target[0].launched_on.isoformat()}), got {raw_date}",
                    )
                    continue
            if brief_id is not None and launch.brief_id != brief_id:
                problems.add(
                    line,
                    "date",
                    f"expected a day of this brief's launch; from {launch.launched_on.isoformat()}"
                    f" {key[1].strip()} on {key[0].strip()} measures another brief's launch: "
                    "import this row with that brief, or without a brief",
                )
                continue
            first = seen.setdefault((launch.package_id, day), line)
            if first != line:
                problems.add(
                    line,
                    None,
                    f"expected one row per channel, SKU, variant, market and date; this row "
                    f"repeats line {first}",
                )
                continue
            rows.append((launch.package_id, launch.version_id, launch.brief_id, day, line, *values))
    except csv.Error as exc:  # the reader gives up (a quote never closed, ...): say where
        problems.add(end + 1, None, _unreadable(exc))
    problems.raise_any()
    return Parsed(rows, count)


def _values(
    record: Sequence[str], line: int, at: Mapping[str, int], problems: _Problems
) -> tuple | None:
    """Read a row's numbers one by one, adding a located problem for each bad one; return
    (impressions, clicks, add_to_cart, orders, revenue, spend, returns, rating) or None."""
    counts = []
    for name in COUNTS:
        value = record[at[name]].strip()
        if value.isdecimal() and int(value) < LARGEST:
            counts.append(int(value))
        else:
            problems.add(line, name, f"expected a whole number, 0 or more, got {value!r}")
    money = []
    for name in MONEY:
        value = record[at[name]].strip()
        cents = _cents(value)
        if cents is None:
            problems.add(line, name, f"expected an amount, 0 or more, such as 12.50, got {value!r}")
        else:
            money.append(cents)
    returns = rating = None
    bad = False
    if "returns" in at and (value := record[at["returns"]].strip()):
        if value.isdecimal() and int(value) < LARGEST:
            returns = int(value)
        else:
            problems.add(line, "returns", f"expected a whole number, 0 or more, got {value!r}")
            bad = True
    if "rating" in at and (value := record[at["rating"]].strip()):
        try:
            rating = float(value)
        except ValueError:
            rating = -1.0
        if not 0 <= rating <= 5:
            problems.add(line, "rating", f"expected a rating from 0 to 5, got {value!r}")
            bad = True
    if len(counts) != len(COUNTS) or len(money) != len(MONEY):
        return None
    impressions, clicks, carts, orders = counts
    if clicks > impressions:
        problems.add(line, "clicks", f"expected at most impressions ({impressions}), got {clicks}")
        bad = True
    if orders > clicks:
        problems.add(line, "orders", f"expected at most clicks ({clicks}), got {orders}")
        bad = True
    return None if bad else (*counts, *money, returns, rating)


def _match(
    key: tuple[str, str, str, str],
    index: LaunchIndex,
    channels: set[str],
    skus: Mapping[str, set[str]],
    variants: Mapping[tuple[str, str], set[str]],
    every: LaunchIndex | None = None,
) -> list[Target] | tuple[str, str]:
    """Return the launches a row's cell can measure, oldest first, or (column, message) when
    none can. With ``every`` (the workspace's launches when ``index`` is one brief's), the
    cell and market are checked against ``index`` and the launches come from ``every``."""
    channel, sku, variant, market = (part.strip() for part in key)
    if channel not in channels:
        return "channel", f"expected a launched channel ({_listed(channels)}), got {channel!r}"
    if sku not in skus[channel]:
        return (
            "sku",
            f"expected a SKU launched on {channel} ({_listed(skus[channel])}), got {sku!r}",
        )
    if variant not in variants[(channel, sku)]:
        return "variant", (
            f"expected a variant launched for {sku} on {channel} "
            f"({_listed(variants[(channel, sku)])}), got {variant!r}"
        )
    candidates = index[(channel, sku, variant)]
    if market:
        candidates = [t for t in candidates if t.market == market]
        if not candidates:
            markets = {t.market for t in index[(channel, sku, variant)]}
            return "market", (
                f"expected a market {sku} launched in on {channel} ({_listed(markets)}), "
                f"got {market!r}"
            )
    markets = {t.market for t in candidates}
    if len(markets) > 1:
        return "market", (
            f"expected a market column: {sku} {variant} launched on {channel} in {_listed(markets)}"
        )
    if every is not None:
        market = candidates[0].market
        candidates = [t for t in every[(channel, sku, variant)] if t.market == market]
    return sorted(candidates, key=lambda t: (t.launched_on, t.package_id))
