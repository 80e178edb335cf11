"""Read product facts from a PIM-style CSV export.

Known columns map to product fields; `claims` is a `;`-separated list of claim ids; every other
column is an attribute. Empty cells mean "not given" (they never erase a value from the brief).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from signoff.core.errors import InputError, Problem

REQUIRED_COLUMNS = ("sku", "name")
FIELD_COLUMNS = ("sku", "name", "gtin", "price", "currency", "claims", "images")


@dataclass
class CsvProduct:
    row: int  # 1-based line in the file (the header is row 1)
    values: dict[str, object] = field(default_factory=dict)  # only the cells that were given


def read_products_csv(path: str | Path) -> list[CsvProduct]:
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError.single("file not found", file=file) from exc
    except UnicodeDecodeError as exc:
        raise InputError.single("file is not UTF-8 text", file=file) from exc
    reader = csv.reader(text.splitlines())
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputError.single(
            f"missing column(s) {', '.join(missing)}; the header must include "
            f"{', '.join(REQUIRED_COLUMNS)} (found: {', '.join(header) or 'nothing'})",
            file=file,
            line=1,
        )
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise InputError.single(
            f"column(s) {', '.join(duplicated)} appear twice", file=file, line=1
        )
    problems: list[Problem] = []
    products: list[CsvProduct] = []
    seen: dict[str, int] = {}
    for row_number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            problems.append(
                Problem(
                    f"{len(cells)} values but the header has {len(header)} columns",
                    file=file,
                    line=row_number,
                )
            )
            continue
        product = CsvProduct(row=row_number)
        for column, raw in zip(header, cells, strict=True):
            value = raw.strip()
            if not value:
                continue
            problem = _set(product, column, value)
            if problem:
                problems.append(Problem(problem, file=file, line=row_number, field=column))
        sku = product.values.get("sku")
        if not sku:
            problems.append(Problem("sku is empty", file=file, line=row_number, field="sku"))
        elif sku in seen:
            problems.append(
                Problem(
                    f"SKU {sku!r} is listed twice (first on row {seen[sku]})",
                    file=file,
                    line=row_number,
                    field="sku",
                )
            )
        else:
            seen[str(sku)] = row_number
            products.append(product)
    if problems:
        raise InputError(problems)
    return products


def _set(product: CsvProduct, column: str, value: str) -> str | None:
    """Store one cell; return a problem message if it is not acceptable."""
    if column == "price":
        try:
            amount = Decimal(value)
        except InvalidOperation:
            return f"expected a number like 32.00, got {value!r}"
        if amount < 0:
            return f"expected a price of 0 or more, got {value}"
        if amount != amount.quantize(Decimal("0.01")):
            return f"expected at most 2 decimal places, got {value}"
        product.values["price"] = amount
    elif column == "gtin":
        if not value.isdigit() or len(value) not in (8, 12, 13, 14):
            return f"expected a GTIN of 8, 12, 13 or 14 digits, got {value!r}"
        product.values["gtin"] = value
    elif column == "currency":
        if len(value) != 3 or not value.isalpha() or not value.isupper():
            return f"expected a 3-letter currency code like USD, got {value!r}"
        product.values["currency"] = value
    elif column in ("claims", "images"):
        product.values[column] = [v.strip() for v in value.split(";") if v.strip()]
    elif column in FIELD_COLUMNS:
        product.values[column] = value
    else:
        product.values.setdefault("attributes", {})[column] = value  # type: ignore[index]
    return None
