"""Content-addressed file storage through Django's storage API.

Every file is stored once per workspace under its SHA-256 (``<workspace>/blobs/ab/abcd...``)
and never rewritten: putting the same bytes again finds the stored blob. The backend is
Django's ``storages["signoff"]``: the filesystem under ``SIGNOFF_HOME/files`` by default, an
S3-compatible bucket through django-storages when ``SIGNOFF_S3_BUCKET`` is set.
"""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages

from signoff.visuals.models import Blob
from signoff.workspaces.models import Workspace


def file_storage() -> Storage:
    return storages["signoff"]


def blob_name(workspace: Workspace, sha256: str, fmt: str) -> str:
    return f"{workspace.slug}/blobs/{sha256[:2]}/{sha256}.{fmt}"


def put_blob(workspace: Workspace, data: bytes, *, fmt: str, width: int, height: int) -> Blob:
    """Store ``data`` unless the workspace has it already; return its blob row.

    Runs inside the caller's transaction. A file written for a transaction that then rolls
    back stays in storage unreferenced, which is harmless (same bytes, same name) and is
    what makes the write safe to retry.
    """
    sha256 = hashlib.sha256(data).hexdigest()
    fmt = fmt.lower()
    existing = Blob.objects.filter(workspace=workspace, sha256=sha256).first()
    if existing is not None:
        return existing
    storage = file_storage()
    name = blob_name(workspace, sha256, fmt)
    if not storage.exists(name):
        saved = storage.save(name, ContentFile(data))
        if saved != name:  # the backend renamed it: never a second copy under another name
            storage.delete(saved)
            raise RuntimeError(f"storage refused the content-addressed name {name}")
    return Blob.objects.create(
        workspace=workspace,
        sha256=sha256,
        name=name,
        size=len(data),
        format=fmt,
        width=width,
        height=height,
    )


def read_blob(blob: Blob) -> bytes:
    with file_storage().open(blob.name, "rb") as handle:
        return handle.read()


def blob_path(blob: Blob) -> str | None:
    """The file's local path where the backend has one (the filesystem), else None."""
    try:
        return file_storage().path(blob.name)
    except NotImplementedError:
        return None
