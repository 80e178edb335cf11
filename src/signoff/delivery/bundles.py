"""Reading a launched channel's bundle back for download: its manifest, or all of it as a zip.

Only bundles in their place under the export root (``export_root()/workspace/brief/channel``)
are served: the place is computed from the launch, never read from a request or the stored
path, and must resolve inside the workspace's own folder, so no link, ``..`` or another
workspace's slug can reach another file. Symbolic links inside a bundle are skipped.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from signoff.core.errors import NotFound
from signoff.delivery.models import Launch
from signoff.delivery.services import bundle_name, export_root

MANIFEST = "manifest.json"


def bundle_folder(launch: Launch) -> Path:
    """The launch's bundle folder, confined to its workspace's part of the export root."""
    brief = launch.brief
    place = bundle_name(brief, launch.channel)
    root = (export_root() / brief.workspace.slug).resolve()
    folder = (export_root() / place).resolve()
    if not folder.is_relative_to(root) or not folder.is_dir():
        raise NotFound(f"the bundle of {brief.slug}/{launch.channel} is not in the export folder")
    return folder


def _files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not p.is_symlink() and p.resolve().is_relative_to(folder)
    )


def manifest_bytes(launch: Launch) -> bytes:
    path = bundle_folder(launch) / MANIFEST
    if not path.is_file() or path.is_symlink():
        raise NotFound(f"the manifest of {launch.brief.slug}/{launch.channel} is missing")
    return path.read_bytes()


def bundle_zip(launch: Launch) -> bytes:
    """The bundle as a zip, entries under ``<brief>-<channel>/``, dated at the launch."""
    folder = bundle_folder(launch)
    files = _files(folder)
    if not files:
        raise NotFound(f"the bundle of {launch.brief.slug}/{launch.channel} is empty")
    stamp = launch.created_at.timetuple()[:6]
    prefix = f"{launch.brief.slug}-{launch.channel}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            entry = zipfile.ZipInfo(f"{prefix}/{path.relative_to(folder).as_posix()}", stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, path.read_bytes())
    return buffer.getvalue()
