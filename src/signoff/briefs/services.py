"""Store a brief (and its products) as a new immutable version, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from pydantic import ValidationError

from signoff.agents.context import CheckFinding
from signoff.agents.guard import screen_brief
from signoff.audit.services import record
from signoff.briefs import hooks
from signoff.briefs.models import Brief, BriefVersion, Product
from signoff.briefs.products_csv import CsvProduct, read_products_csv
from signoff.briefs.schema import BriefFile, ProductEntry
from signoff.channels.catalog import catalog_ids
from signoff.core.errors import InputError, NotFound, Problem
from signoff.core.hashing import content_hash
from signoff.core.paths import confined, path_refusal
from signoff.core.sourcemap import SourceDocument, pydantic_problems, read_document
from signoff.workflow import ErrorCode, StateError
from signoff.workspaces.models import Workspace

PRODUCT_FIELDS = ("name", "gtin", "price", "currency", "claims", "images")


CONFLICTS_KEPT = 500  # CSV-against-brief conflicts recorded with a brief version


@dataclass
class BriefReport:
    brief: Brief
    version: BriefVersion
    created_version: bool
    # (sku, field, "brief" | "csv") for every fact stored
    sources: list[tuple[str, str, str]] = field(default_factory=list)
    # (sku, field, brief value, csv value) where the CSV overrode the brief
    conflicts: list[tuple[str, str, str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # What the input guard found (agents.guard): blocking ones hold G1 until a new version.
    findings: list[CheckFinding] = field(default_factory=list)


def parse_brief(doc: SourceDocument) -> BriefFile:
    if not isinstance(doc.data, dict):
        raise InputError([doc.problem("expected a mapping with brief, name, channels, ...")])
    try:
        return BriefFile.model_validate(doc.data)
    except ValidationError as exc:
        raise InputError(pydantic_problems(doc, exc)) from exc


def add_brief(
    path: str | Path,
    *,
    products_csv: str | Path | None = None,
    actor: str = "system:cli",
    after_g1: bool = False,
) -> BriefReport:
    """Validate a brief file (and optional PIM CSV) and store it as the brief's next version.

    Once a brief has passed G1, a new version goes through ``update_brief`` (``after_g1``),
    which says what the change touches; adding it here is refused.
    """
    doc = read_document(path)
    parsed = parse_brief(doc)
    try:
        workspace = Workspace.objects.get(slug=parsed.workspace)
    except Workspace.DoesNotExist as exc:
        raise InputError(
            [doc.problem(f"no workspace {parsed.workspace!r}; load it first", ("workspace",))]
        ) from exc
    csv_rows = read_products_csv(products_csv) if products_csv else []
    base_dir, problems = _base_dir(doc, parsed)
    problems += _check_brief(doc, parsed, workspace)
    products, sources, conflicts, merge_problems = _merge_products(
        doc, parsed.products, csv_rows, str(products_csv or ""), workspace
    )
    problems += merge_problems
    if problems:
        raise InputError(problems)
    data = parsed.model_dump(mode="json", exclude={"products"})
    data["template"] = parsed.template or parsed.content_type
    # Every entry point (CLI, CSV, web intake, API) stores a brief here: one input guard.
    screen = screen_brief(
        data,
        products,
        sources={
            "brief": Path(path).name,
            "csv": Path(products_csv).name if products_csv else "the products CSV",
        },
    )
    findings = list(screen.findings)
    warnings = [f"{f.severity}: {f.rule_id}: {f.message}" for f in findings]
    digest = content_hash({"brief": data, "products": products})
    with transaction.atomic():
        brief, _ = Brief.objects.select_for_update().get_or_create(
            workspace=workspace,
            slug=parsed.brief,
            defaults={
                "name": parsed.name,
                "content_type": parsed.content_type,
                "template": data["template"],
                "owner": parsed.owner or "",
            },
        )
        latest = brief.latest_version()
        if latest is not None and latest.content_hash == digest:
            return BriefReport(brief, latest, False, sources, conflicts, warnings, findings)
        if brief.approved_version_id is not None and not after_g1:
            raise StateError(
                ErrorCode.INVALID_STATE,
                f"brief {brief.slug} has passed G1; change it with `signoff brief update "
                f"{brief.slug} FILE`, which says which packages the change touches",
            )
        _refuse_template_change(brief, parsed.content_type, data["template"])
        brief.name = parsed.name
        brief.owner = parsed.owner or ""
        # Until the template is fixed, the brief follows its latest version's workflow.
        brief.content_type = parsed.content_type
        brief.template = data["template"]
        brief.save(update_fields=["name", "owner", "content_type", "template"])
        version = BriefVersion.objects.create(
            brief=brief,
            number=(latest.number + 1) if latest else 1,
            data=data,
            source_path=str(Path(path).resolve()),
            base_dir=str(base_dir),
            content_hash=digest,
            added_by=actor,
        )
        Product.objects.bulk_create(
            Product(brief_version=version, position=i, **values)
            for i, values in enumerate(products)
        )
        # Other apps' facts about the version (its files as references), kept in its event.
        extra = {
            k: v for hook in hooks.brief_version_added for k, v in hook(version, actor).items()
        }
        record(
            action="brief.added" if latest is None else "brief.version_added",
            actor=actor,
            actor_kind="person" if "@" in actor else "system",
            subject_type="brief",
            subject_id=str(brief.pk),
            workspace=workspace.slug,
            content_hash=digest,
            data={
                "brief": brief.slug,
                "version": version.number,
                "products": len(products),
                "file": str(path),
                "csv": str(products_csv or ""),
                # Rule ids and places only: the findings' texts may quote what was screened.
                "input_findings": [[f.rule_id, f.severity.value, f.field] for f in findings],
                # Where the CSV overrode the brief (SKU, fact, brief's value, CSV's): the G1
                # page lists them. Capped: a whole catalogue disagreeing is one message.
                "conflicts": [list(c) for c in conflicts[:CONFLICTS_KEPT]],
                "conflicts_total": len(conflicts),
                **extra,
            },
        )
    return BriefReport(brief, version, True, sources, conflicts, warnings, findings)


def _refuse_template_change(brief: Brief, content_type: str, template: str) -> None:
    """Refuse a new version that changes the workflow once it is fixed.

    The template is fixed once G1 passes, or, in a template without a brief gate, once
    packages exist: their positions, gates and approvals only mean something in it.
    """
    if (brief.content_type, brief.template) == (content_type, template):
        return
    if brief.approved_version_id is None and not brief.packages.exists():
        return
    fixed_by = "has passed G1" if brief.approved_version_id is not None else "has packages"
    raise StateError(
        ErrorCode.INVALID_STATE,
        f"brief {brief.slug} {fixed_by}, so its template ({brief.template}) and content type "
        f"({brief.content_type}) are fixed; this version asks for template {template} and "
        f"content type {content_type}. Keep them, or start a new brief for another workflow",
    )


def _check_brief(doc: SourceDocument, parsed: BriefFile, workspace: Workspace) -> list[Problem]:
    problems = []
    known = set(catalog_ids()) | set(workspace.channel_overrides)
    for i, channel in enumerate(parsed.channels):
        if channel not in known:
            problems.append(
                doc.problem(
                    f"unknown channel {channel!r}; expected one of {', '.join(sorted(known))}",
                    ("channels", i),
                )
            )
        elif parsed.channels.index(channel) != i:
            problems.append(doc.problem(f"channel {channel!r} is listed twice", ("channels", i)))
    first_row: dict[str, int] = {}
    for i, product in enumerate(parsed.products):
        if product.sku in first_row:
            problems.append(
                doc.problem(
                    f"SKU {product.sku!r} is listed twice (first at line "
                    f"{doc.line_of(('products', first_row[product.sku]))})",
                    ("products", i, "sku"),
                )
            )
        first_row.setdefault(product.sku, i)
    return problems


def _file_references(parsed: BriefFile) -> list[tuple[tuple, str]]:
    refs = [
        (("products", i, "images", j), image)
        for i, product in enumerate(parsed.products)
        for j, image in enumerate(product.images)
    ]
    refs += [(("references", i, "path"), r.path) for i, r in enumerate(parsed.references) if r.path]
    return refs


def _base_dir(doc: SourceDocument, parsed: BriefFile) -> tuple[Path, list[Problem]]:
    """Return the folder the brief's image and reference paths are relative to.

    Paths may be relative to the brief's own folder or to the folder above it (a brand folder
    with ``briefs/`` and ``references/`` side by side, as in the Lumen Home example). A brief
    sent through the web app or the API is confined to its own upload folder, and its problems
    never name where the server keeps it. No path may leave its folder (see ``core.paths``).
    """
    brief_dir = Path(doc.path).resolve().parent
    uploaded = brief_dir.is_relative_to(_uploads_root())
    candidates = [brief_dir] if uploaded else [brief_dir, brief_dir.parent]
    refs = _file_references(parsed)
    refused = {loc: path_refusal(path) for loc, path in refs}
    problems = [doc.problem(reason, loc) for loc, reason in refused.items() if reason]
    if problems:
        return brief_dir, problems
    for base in candidates:
        if all(confined(base, path) for _, path in refs):
            return base, []
    looked = "the upload" if uploaded else " and ".join(str(c) for c in candidates)
    return brief_dir, [
        doc.problem(f"file {path!r} not found (looked in {looked})", loc)
        for loc, path in refs
        if not any(confined(c, path) for c in candidates)
    ]


def _uploads_root() -> Path:
    return (Path(settings.SIGNOFF_HOME) / "uploads").resolve()


def _merge_products(
    doc: SourceDocument,
    entries: list[ProductEntry],
    csv_rows: list[CsvProduct],
    csv_path: str,
    workspace: Workspace,
) -> tuple[list[dict], list, list, list[Problem]]:
    """Combine brief products and CSV rows; the CSV wins on conflicts."""
    claim_ids = set(workspace.claims.values_list("claim_id", flat=True))
    problems: list[Problem] = []
    merged: dict[str, dict] = {}
    where: dict[str, dict[str, str]] = {}
    sources: list[tuple[str, str, str]] = []
    conflicts: list[tuple[str, str, str, str]] = []
    for i, entry in enumerate(entries):
        values = {
            "sku": entry.sku,
            "name": entry.name,
            "gtin": entry.gtin,
            "price": entry.price.amount if entry.price else None,
            "currency": entry.price.currency if entry.price else None,
            "attributes": {k: _text(v) for k, v in entry.attributes.items()},
            "claims": entry.claims,
            "images": entry.images,
        }
        merged[entry.sku] = {k: v for k, v in values.items() if v not in (None, [], {})}
        where[entry.sku] = dict.fromkeys(merged[entry.sku], "brief")
        for j, claim in enumerate(entry.claims):
            if claim not in claim_ids:
                problems.append(
                    doc.problem(
                        f"claim {claim!r} is not in the workspace's claims registry "
                        f"(known: {', '.join(sorted(claim_ids))})",
                        ("products", i, "claims", j),
                    )
                )
    for row in csv_rows:
        sku = str(row.values["sku"])
        target = merged.setdefault(sku, {"sku": sku})
        origin = where.setdefault(sku, {})
        for key, value in row.values.items():
            if key == "attributes":
                attributes = target.setdefault("attributes", {})
                for name, text in value.items():  # type: ignore[union-attr]
                    _note_conflict(conflicts, sku, f"attributes.{name}", attributes.get(name), text)
                    attributes[name] = text
                    origin[f"attributes.{name}"] = "csv"
                continue
            if key != "sku":
                _note_conflict(conflicts, sku, key, target.get(key), value)
            target[key] = value
            origin[key] = "csv"
        for claim in row.values.get("claims", []):  # type: ignore[union-attr]
            if claim not in claim_ids:
                problems.append(
                    Problem(
                        f"claim {claim!r} is not in the workspace's claims registry "
                        f"(known: {', '.join(sorted(claim_ids))})",
                        file=csv_path,
                        line=row.row,
                        field="claims",
                    )
                )
    for brief_attrs in merged.values():
        for key in list(brief_attrs.get("attributes", {})):
            origin = where[brief_attrs["sku"]]
            origin.setdefault(f"attributes.{key}", "brief")
    products = []
    for sku, values in merged.items():
        if not values.get("name"):
            problems.append(
                Problem(
                    f"SKU {sku!r} has no name in the brief or the CSV",
                    file=doc.path,
                    field="products",
                )
            )
            continue
        origin = where[sku]
        origin.pop("attributes", None)
        sources.extend((sku, f, s) for f, s in sorted(origin.items()))
        products.append(
            {
                "sku": sku,
                "name": values["name"],
                "gtin": values.get("gtin") or "",
                "price": values.get("price"),
                "currency": values.get("currency") or "USD",
                "attributes": values.get("attributes", {}),
                "claims": values.get("claims", []),
                "images": values.get("images", []),
                "field_sources": origin,
            }
        )
    return products, sources, conflicts, problems


def _note_conflict(conflicts: list, sku: str, name: str, old: object, new: object) -> None:
    if old is not None and _text(old) != _text(new):
        conflicts.append((sku, name, _text(old), _text(new)))


def _text(value: object) -> str:
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def get_brief(ref: str) -> Brief:
    """Find a brief by slug, ``workspace/slug`` or id."""
    workspace, _, slug = ref.rpartition("/")
    query = Brief.objects.select_related("workspace")
    if slug.isdigit() and not workspace:
        found = list(query.filter(pk=int(slug)))
    else:
        found = list(
            query.filter(slug=slug, **({"workspace__slug": workspace} if workspace else {}))
        )
    if len(found) == 1:
        return found[0]
    if not found:
        known = ", ".join(f"{b.workspace.slug}/{b.slug}" for b in query.all()) or "none added yet"
        raise NotFound(f"no brief {ref!r} (known: {known})")
    raise NotFound(f"brief {ref!r} exists in several workspaces; name it as workspace/brief")
