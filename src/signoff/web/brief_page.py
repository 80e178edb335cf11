"""The brief page (G1): what changed field by field and the CSV's conflicts with the brief
(``signoff.briefs.version_changes``), the text diff folded below them, completeness per SKU,
references.

A brief may carry tens of thousands of products, so everything per product is shown a page at a
time (``PRODUCTS_PER_PAGE``, ``?page=N``): the completeness rows and the products' part of the
G1 diff. A brief that fits one page shows its whole diff as before, line for line against the
file. A longer one shows, on each page, the brief's own keys and that page's products: their
entries in the file (found by their ``sku:``) against what Signoff will draft from. Only that
page's products are read and rendered, so the page costs the same at 100 products and at
70,000. References are paged alike (``?refs=N``).
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import yaml
from django.core.paginator import Page, Paginator
from django.db.models import Min, Prefetch

from signoff.briefs.approval import brief_diff, enriched_view
from signoff.briefs.completeness import fact_label
from signoff.briefs.models import Brief, BriefApproval, BriefVersion, Product
from signoff.briefs.version_changes import recorded_conflicts, version_changes
from signoff.briefs.workflow import brief_gate, template_for
from signoff.packages.models import Package
from signoff.workflow import PackageState

PRODUCTS_PER_PAGE = 100
REFERENCES_PER_PAGE = 100
# A top-level key of the brief file (YAML at column 0), and a product entry's SKU.
_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:")
_SKU = re.compile(r"""\bsku\s*:\s*["']?([^"'\s,}#]+)""")


def brief_page(brief: Brief, page_number: object = 1, refs_number: object = 1) -> dict:
    """Return the G1 diff, the approval, and completeness per SKU, for one page of products."""
    template = template_for(brief)
    version = brief.latest_version()
    gate = brief_gate(template)
    approval = (
        BriefApproval.objects.filter(brief_version=brief.approved_version).order_by("-id").first()
        if brief.approved_version_id
        else None
    )
    paginator = Paginator(_skus(brief, version), PRODUCTS_PER_PAGE)
    page: Page = paginator.get_page(page_number)
    shown = list(page.object_list)
    references = Paginator(brief.references.order_by("id"), REFERENCES_PER_PAGE)
    return {
        "brief": brief,
        "version": version,
        "diff": _classified(_diff(version, shown, whole=paginator.num_pages <= 1)),
        # Field-level changes from the previous version and the CSV's conflicts with the
        # brief (signoff.briefs.version_changes): what a person reads first at G1.
        "changes": version_changes(version, shown),
        "conflicts": recorded_conflicts(version),
        "gate": gate,
        "waiting": gate is not None and brief.state != PackageState.APPROVED,
        "approval": approval,
        "completeness": _completeness(brief, version, shown),
        "has_packages": Package.objects.filter(brief=brief).exists(),
        "page": page,
        "paginator": paginator,
        "references": references.get_page(refs_number),
        # The input guard's findings on this version, shown at G1 with where each is.
        "input_findings": list(version.screen().findings) if version else [],
    }


def _skus(brief: Brief, version: BriefVersion | None) -> list[str]:
    """Every SKU the page lists, in brief order; then SKUs only packages still have (dropped
    from the brief), in the order their packages were made. Two queries, SKUs only."""
    skus = (
        list(version.products.order_by("position").values_list("sku", flat=True)) if version else []
    )
    dropped = Package.objects.filter(brief=brief)
    if version is not None:
        dropped = dropped.exclude(sku__in=version.products.values("sku"))
    skus += [
        sku
        for sku, _ in dropped.values("sku")
        .annotate(first=Min("id"))
        .order_by("first")
        .values_list("sku", "first")
    ]
    return skus


def _completeness(brief: Brief, version: BriefVersion | None, skus: list[str]) -> list[dict]:
    names = (
        dict(version.products.filter(sku__in=skus).values_list("sku", "name")) if version else {}
    )
    rows = {
        sku: {"sku": sku, "name": names.get(sku, ""), "gaps": {}, "packages": 0} for sku in skus
    }
    packages = Package.objects.filter(brief=brief, sku__in=skus)
    for package in packages.only("sku", "channel", "completeness"):
        entry = rows[package.sku]
        entry["packages"] += 1
        for fact in (package.completeness or {}).get("missing", []):
            entry["gaps"].setdefault(fact_label(fact), []).append(package.channel)
    return [
        {**e, "gaps": sorted((label, sorted(chs)) for label, chs in e["gaps"].items())}
        for e in rows.values()
    ]


def _classified(lines: list[str]) -> list[tuple[str, str]]:
    diff = []
    for line in lines:
        kind = "same"
        if line.startswith(("+++", "---")):
            kind = "file"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        diff.append((kind, line))
    return diff


def _diff(version: BriefVersion | None, skus: list[str], *, whole: bool) -> list[str]:
    if version is None:
        return []
    if whole:
        return brief_diff(version)
    return page_diff(version, skus)


def page_diff(version: BriefVersion, skus: list[str]) -> list[str]:
    """The G1 diff of the brief's own keys and of the products ``skus`` only.

    The file side is the file's own lines outside its ``products:`` block, then the entries of
    that block whose ``sku:`` is one of ``skus`` (a product that came from the CSV has none).
    The enriched side is what Signoff drafts from, with only those products.
    """
    try:
        text = Path(version.source_path).read_text(encoding="utf-8")
    except OSError:
        text = "# (the original file is no longer on disk)"
    header, entries, at = _file_parts(text.splitlines())
    given = header[:at] + [line for sku in skus for line in entries.get(sku, [])] + header[at:]
    # The version again, its products prefetched as this page's only: enriched_view reads them.
    wanted = Product.objects.filter(sku__in=skus).order_by("position")
    page = BriefVersion.objects.prefetch_related(Prefetch("products", queryset=wanted)).get(
        pk=version.pk
    )
    enriched = yaml.safe_dump(enriched_view(page), sort_keys=False, allow_unicode=True)
    label = f" ({len(skus)} products of this page)"
    return list(
        difflib.unified_diff(
            given,
            enriched.splitlines(),
            "user brief" + label,
            "enriched brief" + label,
            lineterm="",
        )
    )


def _file_parts(lines: list[str]) -> tuple[list[str], dict[str, list[str]], int]:
    """Split a brief file's lines into the lines outside its products' entries (the
    ``products:`` line itself included), each entry's lines by its SKU, and where in the
    former the entries stood.

    Line-based on purpose: parsing a 70,000-product file again for every page would cost what
    paging saves. Top-level keys start at column 0 (the file is a mapping); an entry starts at
    the products list's dash indentation.
    """
    header: list[str] = []
    entries: dict[str, list[str]] = {}
    inside = False
    indent: int | None = None
    current: list[str] | None = None
    at = len(lines)

    def close() -> None:
        if current:
            found = _SKU.search("\n".join(current))
            if found:
                entries.setdefault(found.group(1), current)

    for line in lines:
        top = _TOP_KEY.match(line)
        if top:
            close()
            current = None
            inside = top.group(1) == "products"
            header.append(line)
            if inside:
                at = len(header)
            continue
        if not inside:
            header.append(line)
            continue
        stripped = line.lstrip()
        if stripped.startswith("-"):
            dash = len(line) - len(stripped)
            indent = dash if indent is None else indent
            if dash == indent:
                close()
                current = []
        if current is None:
            header.append(line)  # a comment or blank line before the first entry
        else:
            current.append(line)
    close()
    return header, entries, min(at, len(header))
