"""Images of a brief: generate, list, show, rate, select, edit, render, compare."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from signoff.cli.base import _acting_person, _emit_json, command, err, main, out, token_option


@main.group()
def images() -> None:
    """Image options per SKU: generate in batches, compare, rate, select, edit, render."""


@images.command("generate")
@click.argument("brief_ref", metavar="BRIEF")
@click.option("--sku", "skus", multiple=True, help="Only this SKU (repeatable).")
@click.option("--n", default=4, show_default=True, type=int, help="Options per SKU (1-10).")
@click.option("--hypothesis", default="", help="The idea this batch explores.")
@click.option("--provider", default=None, help="builtin, openai or openai:MODEL.")
@click.option("--background", is_flag=True, help="Queue it for `signoff worker`.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
@click.option("--token", envvar="SIGNOFF_TOKEN", default="", help="Act as this token's person.")
@command()
def images_generate(
    brief_ref: str,
    skus: tuple[str, ...],
    n: int,
    hypothesis: str,
    provider: str | None,
    background: bool,
    as_json: bool,
    token: str,
) -> None:
    """Make N options per SKU from the brief's direction and each SKU's packshot."""
    from signoff.briefs.services import get_brief
    from signoff.visuals.generation import STEPS, execute_image_run, queue_image_run
    from signoff.visuals.tasks import generate_images_task

    brief = get_brief(brief_ref)
    person = _acting_person(token) if token else None
    run = queue_image_run(
        brief=brief, person=person, skus=list(skus), n=n, hypothesis=hypothesis, provider=provider
    )
    if background:
        result = generate_images_task.enqueue(run.pk)
        err.print(f"Queued image run {run.pk} as task {result.id}; `signoff worker` runs it.")
        if as_json:
            _emit_json({"run": run.pk, "status": "queued", "task": str(result.id)})
        return
    with Progress(
        TextColumn("{task.description:<26}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        disable=as_json,
    ) as progress:
        tasks = {step: progress.add_task(step, total=None) for step in STEPS}

        def report(step: str, done: int, total: int) -> None:
            progress.update(tasks[step], completed=done, total=total)

        outcome = execute_image_run(run.pk, progress=report)
        for step in STEPS:
            if progress.tasks[tasks[step]].total is None:
                progress.update(tasks[step], total=1, completed=1)
    run = outcome.run
    if as_json:
        _emit_json(
            {
                "run": run.pk,
                "status": run.status,
                "made": outcome.made,
                "failed": outcome.failed,
                "missing": outcome.missing,
                "summary": run.summary,
            }
        )
        return
    made = sum(len(ids) for ids in outcome.made.values())
    err.print(f"Image run {run.pk} {run.status}: {made} options for {len(outcome.made)} SKUs.")
    for sku, reasons in outcome.failed.items():
        for reason in reasons:
            err.print(f"  {sku}: an option failed: {reason}")
    for sku, reason in outcome.missing.items():
        err.print(f"  {sku}: missing: {reason}")
    if run.summary.get("stopped"):
        err.print(f"  stopped: {run.summary['stopped']}")


@images.command("list")
@click.argument("brief_ref", metavar="BRIEF")
@click.option("--sku", default=None)
@click.option("--hide-blocked", is_flag=True, help="Leave out options with blocking findings.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
@command(writes=False)
def images_list(brief_ref: str, sku: str | None, hide_blocked: bool, as_json: bool) -> None:
    """Every option and edit: id, SKU, parent, status, sha256, size, provenance, file."""
    from signoff.briefs.services import get_brief
    from signoff.visuals.selectors import images_of

    rows = images_of(get_brief(brief_ref), sku=sku, hide_blocked=hide_blocked)
    if as_json:
        _emit_json(rows)
        return
    table = Table(
        "id", "sku", "#", "parent", "status", "size", "provider", "stars", "findings", "file"
    )
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["sku"],
            str(row["number"]),
            str(row["parent"] or ""),
            row["status"],
            "x".join(map(str, row["size"])) if row["size"] else "-",
            f"{row['provider']}:{row['model']}" if row["model"] else str(row["provider"]),
            str(row["stars"] or ""),
            _findings_cell(row["findings"]),
            row["path"] or row["error"] or "",
        )
    out.print(table)


def _findings_cell(findings: list[dict]) -> str:
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding["severity"]] = counts.get(finding["severity"], 0) + 1
    return " ".join(f"{n} {severity}" for severity, n in sorted(counts.items())) or "clean"


@images.command("show")
@click.argument("image_id", metavar="IMAGE")
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
@token_option
@command(writes=False)
def images_show(image_id: str, as_json: bool, token: str) -> None:
    """One image: provenance, lineage, ratings, findings and renditions."""
    detail = _detail(image_id, token)
    if as_json:
        _emit_json(detail)
        return
    origin = detail["origin"]
    out.print(
        f"[bold]Image {detail['id']}[/bold] {detail['sku']} #{detail['number']} "
        f"({detail['kind']}, {detail['status']})"
    )
    out.print(f"file: {detail['path'] or '-'}  sha256 {detail['sha256']}")
    out.print(
        f"size: {detail['size']}  by {detail['author']}  provider "
        f"{origin.get('provider')}:{origin.get('model')}  seed {origin.get('seed')}"
    )
    if origin.get("prompt"):
        out.print(f"prompt:\n{origin['prompt']}")
    for item in detail["lineage"]:
        out.print(f"parent: image {item['id']} (#{item['number']})")
    for finding in detail["findings"]:
        out.print(f"{finding['severity']:<5} {finding['rule_id']}: {finding['message']}")
    for rating in detail["ratings"]:
        out.print(
            f"rated {rating['stars']}/5 by {rating['person']} {rating['tags']} {rating['note']}"
        )
    for rendition in detail["renditions"]:
        out.print(
            f"rendition {rendition['channel']}/{rendition['slot']}: {rendition['file']} "
            f"{rendition['size']} {rendition['bytes']} bytes"
        )


def _detail(image_id: str, token: str) -> dict[str, Any]:
    from signoff.visuals.selectors import image_detail, image_for

    return image_detail(image_for(_acting_person(token), image_id))


@images.command("rate")
@click.argument("image_id", metavar="IMAGE")
@click.argument("stars", type=int)
@click.option("--tags", default="", help="Feedback tags, comma-separated.")
@click.option("--note", default="")
@token_option
@command()
def images_rate(image_id: str, stars: int, tags: str, note: str, token: str) -> None:
    """Rate an image 1-5 with feedback tags; the next batch for the SKU reads them."""
    from signoff.visuals.decisions import rate_image
    from signoff.visuals.selectors import image_for

    person = _acting_person(token)
    image = image_for(person, image_id)
    rate_image(image=image, person=person, stars=stars, tags=tags.split(","), note=note)
    err.print(f"Rated image {image.pk} ({image.sku} #{image.number}) {stars}/5.")


@images.command("select")
@click.argument("image_id", metavar="IMAGE")
@click.option("--note", default="")
@token_option
@command()
def images_select(image_id: str, note: str, token: str) -> None:
    """Choose the image a SKU's renditions are made from (a person's decision)."""
    from signoff.visuals.decisions import select_image
    from signoff.visuals.selectors import image_for

    person = _acting_person(token)
    image = image_for(person, image_id)
    select_image(image=image, person=person, note=note)
    err.print(f"Selected image {image.pk} for {image.sku}.")


@images.command("edit")
@click.argument("image_id", metavar="IMAGE")
@click.option("--prompt", default="", help="Edit by a provider, with this instruction.")
@click.option("--mask", type=click.Path(dir_okay=False, exists=True), help="PNG; alpha 0 = edit.")
@click.option("--background", default="", help="white, transparent or #RRGGBB.")
@click.option("--upscale", type=click.Choice(["2", "4"]), default=None)
@click.option("--crop", default="", help="X,Y,W,H in pixels.")
@click.option("--provider", default=None, help="For --prompt: builtin, openai, openai:MODEL.")
@click.option("--note", default="")
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
@token_option
@command()
def images_edit(
    image_id: str,
    prompt: str,
    mask: str | None,
    background: str,
    upscale: str | None,
    crop: str,
    provider: str | None,
    note: str,
    as_json: bool,
    token: str,
) -> None:
    """A new image version from IMAGE with one edit; the parent's approvals do not carry over."""
    from signoff.visuals.decisions import EditAsk, edit_image
    from signoff.visuals.selectors import image_detail, image_for

    person = _acting_person(token)
    image = image_for(person, image_id)
    ask = EditAsk(
        prompt=prompt,
        mask=Path(mask).read_bytes() if mask else None,
        background=background,
        upscale=int(upscale) if upscale else 0,
        crop=_crop(crop) if crop else None,
        provider=provider,
    )
    made = edit_image(image=image, person=person, ask=ask, note=note)
    if as_json:
        _emit_json(image_detail(made))
        return
    err.print(f"Image {made.pk} ({made.sku} #{made.number}) made from image {image.pk}.")


def _crop(value: str) -> tuple[int, int, int, int]:
    from signoff.core.errors import InputError

    parts = value.split(",")
    if len(parts) != 4 or not all(p.strip().isdigit() for p in parts):
        raise InputError.single(
            f"expected X,Y,W,H in whole pixels, got {value!r}",
            file="<command line>",
            field="--crop",
        )
    x, y, w, h = (int(p) for p in parts)
    return (x, y, w, h)


@images.command("render")
@click.argument("brief_ref", metavar="BRIEF")
@click.option("--sku", "skus", multiple=True, help="Only this SKU (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
@token_option
@command()
def images_render(brief_ref: str, skus: tuple[str, ...], as_json: bool, token: str) -> None:
    """Every slot of every channel from each SKU's selected image, attached to its packages."""
    import dataclasses

    from signoff.briefs.services import get_brief
    from signoff.visuals.rendering import render_brief

    person = _acting_person(token)
    report = render_brief(brief=get_brief(brief_ref), person=person, skus=list(skus) or None)
    if as_json:
        _emit_json(dataclasses.asdict(report))
        return
    made = [r for r in report.rendered if not r["reused"]]
    err.print(f"{len(made)} renditions made, {len(report.rendered) - len(made)} already there.")
    for row in report.rendered:
        out.print(
            f"{row['sku']} {row['channel']}/{row['slot']}: {row['file']} "
            f"{row['size'][0]}x{row['size'][1]} {row['bytes']:,} bytes"
        )
    for row in report.attached:
        out.print(
            f"package {row['package']} ({row['sku']} x {row['channel']}): "
            f"{row['outcome']} {row.get('message') or row.get('reason') or ''}"
        )
    for sku, reason in report.missing.items():
        err.print(f"{sku}: {reason}")
    for row in report.refused:
        err.print(f"{row['sku']} {row['channel']}/{row['slot']}: not made: {row['reason']}")


@images.command("compare")
@click.option("--brief", "brief_ref", required=True, metavar="BRIEF")
@click.option("--sku", required=True)
@click.option("--providers", required=True, help="Comma-separated: builtin,openai:MODEL,...")
@click.option("--n", default=1, show_default=True, type=int, help="Options per provider.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Write the options here.")
@click.option("--keep", "keeps", multiple=True, help="PROVIDER:N to store as an option.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
@token_option
@command()
def images_compare(
    brief_ref: str,
    sku: str,
    providers: str,
    n: int,
    out_dir: str | None,
    keeps: tuple[str, ...],
    as_json: bool,
    token: str,
) -> None:
    """One prompt on several providers side by side; stores nothing unless you --keep one."""
    import tempfile

    from signoff.briefs.services import get_brief
    from signoff.core.errors import InputError
    from signoff.visuals.compare import compare_providers, keep_option

    person = _acting_person(token)
    brief = get_brief(brief_ref)
    specs = [p.strip() for p in providers.split(",") if p.strip()]
    options = compare_providers(brief=brief, person=person, sku=sku, providers=specs, n=n)
    folder = Path(out_dir or tempfile.mkdtemp(prefix="signoff-compare-"))
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for option in options:
        path = None
        if option.data is not None:
            path = folder / f"{sku}_{option.provider}_{option.index}.png"
            path.write_bytes(option.data)
        rows.append(
            {
                "provider": option.provider,
                "model": option.model,
                "option": option.index,
                "file": str(path) if path else None,
                "size": option.size,
                "cost": round(option.cost, 6),
                "latency_ms": round(option.latency_ms, 1),
                "findings": option.findings,
                "error": option.error or None,
            }
        )
    kept = []
    for keep in keeps:
        name, _, index = keep.rpartition(":")
        chosen = next((o for o in options if o.provider == name and str(o.index) == index), None)
        if chosen is None:
            raise InputError.single(
                f"no option {keep!r}; options are "
                + ", ".join(f"{o.provider}:{o.index}" for o in options),
                file="<command line>",
                field="--keep",
            )
        kept.append(keep_option(brief=brief, person=person, sku=sku, option=chosen).pk)
    if as_json:
        _emit_json({"options": rows, "kept": kept})
        return
    table = Table("provider", "model", "#", "size", "cost", "ms", "findings", "file")
    for row in rows:
        table.add_row(
            row["provider"],
            row["model"],
            str(row["option"]),
            "x".join(map(str, row["size"])) if row["size"] else "-",
            f"{row['cost']:.4f}",
            f"{row['latency_ms']:.0f}",
            _findings_cell(row["findings"]),
            row["file"] or f"failed: {row['error']}",
        )
    out.print(table)
    for image_id in kept:
        err.print(f"Kept as image {image_id}.")
