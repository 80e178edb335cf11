"""Write a channel's feed (and its images) into a folder that something else reads.

Every file appears whole or not at all: it is written under a temporary name in the same
folder, flushed to disk, then renamed over the old one, so a scheduled fetch never reads half
a feed. The feed is the whole channel each time (what is published and not taken down), so
writing it again is harmless: that is this connector's idempotency.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path, PurePosixPath
from typing import ClassVar

from signoff.outbox.connectors.port import DeliveryDocument
from signoff.outbox.rules import SendResult


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one rename (same folder, so the same file system)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _same_file(path: Path, sha256: str) -> bool:
    if not path.is_file():
        return False
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest() == sha256


def _inside(name: str) -> tuple[str, ...]:
    """An attachment's path as parts that stay inside the folder: its last two (the brief's
    image subfolder and the file), none of them a way up or out."""
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", "/")]
    kept = tuple(p for p in parts[-2:] if p not in (".", ".."))
    return kept or ("unnamed",)


class FolderConnector:
    kind: ClassVar[str] = "folder"
    batches: ClassVar[bool] = True  # one feed file for the channel
    takes_down: ClassVar[bool] = True  # the next feed leaves the package out

    def __init__(self, *, timeout: float = 0.0) -> None:
        self.timeout = timeout  # unused: the file system answers or raises

    def send(self, document: DeliveryDocument) -> SendResult:
        folder = Path(document.destination.path)
        target = folder / document.filename
        try:
            folder.mkdir(parents=True, exist_ok=True)
            # Images first: a feed must never name an image that is not there yet.
            for attachment in document.attachments:
                path = folder.joinpath(*_inside(attachment.name))
                path.parent.mkdir(exist_ok=True)
                if not _same_file(path, attachment.sha256):
                    write_atomically(path, attachment.read())
            write_atomically(target, document.body)
        except OSError as exc:
            # A full disk or a lost mount may pass; the delivery is tried again and then dies
            # with this reason if it does not.
            return SendResult(False, error=f"cannot write {target}: {exc.strerror or exc}")
        digest = hashlib.sha256(document.body).hexdigest()
        return SendResult(True, receiver_id=f"{document.filename} sha256:{digest[:16]}")
