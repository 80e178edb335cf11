"""Image quality control on plain files: `images check` and `images proof`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from signoff.cli.base import _acting_person, _emit_json, command, err, out
from signoff.cli.images import images


def _channel(channel_id: str, workspace_slug: str | None) -> Any:
    from signoff.channels.catalog import catalog_ids, resolve_spec
    from signoff.core.errors import InputError
    from signoff.workspaces.models import Workspace

    overrides: dict = {}
    if workspace_slug:
        workspace = Workspace.objects.filter(slug=workspace_slug).first()
        if workspace is None:
            raise InputError.single(f"no workspace {workspace_slug!r}", field="--workspace")
        overrides = workspace.channel_overrides
    known = sorted(set(catalog_ids()) | set(overrides))
    if channel_id not in known:
        raise InputError.single(
            f"unknown channel {channel_id!r}; expected one of {', '.join(known)}",
            file="<command line>",
            field="--channel",
        )
    return resolve_spec(channel_id, overrides.get(channel_id))


def _decode(paths: list[str]) -> list[Any]:
    from django.conf import settings

    from signoff.core.errors import InputError, Problem
    from signoff.visuals.imaging import ImageInputError, decode_image

    decoded, problems = [], []
    for name in paths:
        path = Path(name)
        if not path.is_file():
            problems.append(Problem("file not found", file=name))
            continue
        try:
            decoded.append(
                decode_image(path.read_bytes(), name, max_pixels=settings.SIGNOFF_IMAGE_MAX_PIXELS)
            )
        except ImageInputError as exc:
            problems.append(Problem(exc.message, file=name))
    if problems:
        raise InputError(problems)
    return decoded


@images.command("check")
@click.argument("files", nargs=-1, required=True)
@click.option("--channel", "channel_id", required=True, help="The channel whose rules apply.")
@click.option("--reference", type=click.Path(dir_okay=False), help="The SKU's packshot.")
@click.option("--main", "each_main", is_flag=True, help="Apply main-image rules to every file.")
@click.option("--workspace", "workspace_slug", help="Apply this workspace's channel overrides.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON only.")
@command(writes=False)
def images_check(
    files: tuple[str, ...],
    channel_id: str,
    reference: str | None,
    each_main: bool,
    workspace_slug: str | None,
    as_json: bool,
) -> None:
    """Check image files as a channel would: findings per file; exit 1 on a blocking one.

    Main-image rules (white background, fill, no overlays) apply to the first file, or to
    every file with --main.
    """
    from PIL import Image

    from signoff.channels.image_qc import ImageQCSpec
    from signoff.visuals.qc.run import check_image

    channel = _channel(channel_id, workspace_slug)
    decoded = _decode(list(files) + ([reference] if reference else []))
    packshot = decoded.pop().image if reference else None
    rules = channel.images
    spec = rules.qc if rules is not None and rules.qc is not None else ImageQCSpec()
    report = []
    for index, (name, image) in enumerate(zip(files, decoded, strict=True)):
        with Image.open(name) as raw:
            tables = getattr(raw, "quantization", None)
        found = check_image(
            image.image,
            spec,
            main=each_main or index == 0,
            packshot=packshot,
            physical=rules.print if rules is not None else None,
            jpeg_quantization=tables,
        )
        report.append(
            {
                "file": name,
                "size": [image.width, image.height],
                "notes": image.notes,
                "findings": [
                    {
                        "rule_id": f.rule_id,
                        "severity": f.severity,
                        "message": f.message,
                        "bbox": list(f.bbox) if f.bbox else None,
                        "suggested_fix": f.suggested_fix,
                    }
                    for f in found
                ],
            }
        )
    blocking = any(f["severity"] == "block" for row in report for f in row["findings"])
    if as_json:
        _emit_json({"channel": channel.id, "files": report, "blocking": blocking})
    else:
        for row in report:
            out.print(f"[bold]{row['file']}[/bold] {row['size'][0]}x{row['size'][1]}")
            for note in row["notes"]:
                out.print(f"  note: {note}", markup=False)
            if not row["findings"]:
                out.print("  no findings")
            for f in row["findings"]:
                where = f" at {tuple(f['bbox'])}" if f["bbox"] else ""
                out.print(
                    f"  {f['severity']:<5} {f['rule_id']}: {f['message']}{where}", markup=False
                )
                if f["suggested_fix"]:
                    out.print(f"        fix: {f['suggested_fix']}", markup=False)
    if blocking:
        sys.exit(1)


@images.command("proof")
@click.argument("image_ref", metavar="IMAGE|FILE")
@click.option("--channel", "channel_id", required=True, help="The channel whose rules apply.")
@click.option("-o", "--out", "out_path", required=True, type=click.Path(dir_okay=False))
@click.option("--reference", type=click.Path(dir_okay=False), help="The SKU's packshot.")
@click.option("--token", envvar="SIGNOFF_TOKEN", default="", help="Needed for a stored IMAGE.")
@command()
def images_proof(
    image_ref: str, channel_id: str, out_path: str, reference: str | None, token: str
) -> None:
    """Write a proof sheet: fit to page with physical size and ppi, 100 % crops, findings."""
    from signoff.channels.image_qc import ImageQCSpec
    from signoff.visuals.proof import print_size, proof_pdf
    from signoff.visuals.qc.run import check_image

    channel = _channel(channel_id, None)
    image, title, bbox, packshot = _proof_source(image_ref, reference, token)
    rules = channel.images
    spec = rules.qc if rules is not None and rules.qc is not None else ImageQCSpec()
    physical = rules.print if rules is not None else None
    found = check_image(image, spec, main=False, packshot=packshot, physical=physical)
    Path(out_path).write_bytes(
        proof_pdf(
            image,
            title=f"{title} for {channel.name}",
            findings=found,
            printed=print_size(rules, image.size),
            product_bbox=bbox,
        )
    )
    err.print(f"Proof of {title} written to {out_path} ({len(found)} findings).")


def _proof_source(image_ref: str, reference: str | None, token: str) -> tuple:
    """A stored image version (by id, with its product box and packshot) or a plain file."""
    from django.conf import settings

    from signoff.visuals.imaging import decode_image
    from signoff.visuals.storage import read_blob

    if image_ref.isdigit() and not Path(image_ref).exists():
        from signoff.visuals.models import Reference
        from signoff.visuals.selectors import image_for

        version = image_for(_acting_person(token), image_ref)
        data = read_blob(version.blob)
        image = decode_image(
            data, f"image {version.pk}", max_pixels=settings.SIGNOFF_IMAGE_MAX_PIXELS
        )
        packshot_ref = Reference.objects.filter(
            brief=version.brief, kind="packshot", sku=version.sku
        ).first()
        packshot = (
            decode_image(
                read_blob(packshot_ref.blob),
                "packshot",
                max_pixels=settings.SIGNOFF_IMAGE_MAX_PIXELS,
            ).image
            if packshot_ref
            else None
        )
        return image.image, f"{version.sku} image {version.pk}", version.product_bbox, packshot
    decoded = _decode([image_ref] + ([reference] if reference else []))
    packshot = decoded[1].image if reference else None
    return decoded[0].image, Path(image_ref).name, None, packshot
