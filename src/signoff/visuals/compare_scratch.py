"""Hold a provider comparison's options outside the content store until a person keeps one.

A comparison stores nothing (``signoff.visuals.compare``), yet the API and the web app show it
in one request and keep an option in a later one, so the options' bytes must wait somewhere
that is not the content store. They wait in ``SIGNOFF_HOME/scratch/compare/<token>/``: one file
per option that has an image, and ``manifest.json`` naming who ran it (person and workspace),
for which brief and SKU, and each option's provenance.

- Only the person who ran a comparison reads it back; for anyone else it does not exist.
- A kept option's file leaves the scratch area (it is in the content store now); the folder
  goes once every option with an image is kept.
- A comparison lasts ``TTL`` (24 hours); expired ones are removed whenever a new one is
  written, so the area never grows without someone using it.

Files only: no database and no model. The token is the comparison's id: random and
unguessable, and checked against a strict pattern before it touches a path.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from signoff.core.errors import InputError, NotFound, Problem
from signoff.workflow import ErrorCode, StateError

TTL = timedelta(hours=24)
MANIFEST = "manifest.json"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")
_CLAIMED = ".keeping"  # suffix of an option file while one request keeps it
_KEPT = ".kept"  # suffix of the marker holding the image id an option was kept as


class Compared(Protocol):
    """What ``compare_providers`` answers per option (``ComparedOption``)."""

    provider: str
    model: str
    index: int
    data: bytes | None
    size: tuple[int, int] | None
    cost: float
    latency_ms: float
    prompt: str
    parameters: dict
    findings: list[dict]
    error: str
    digital_source_type: str
    seed: int | None


@dataclass(frozen=True, slots=True)
class HeldOption:
    """One option as held: its provenance, and the file its bytes wait in."""

    key: str  # how a person names it to keep it: "builtin:1", or "openai:MODEL:1" if needed
    provider: str
    model: str
    index: int  # 1-based within the provider's answer
    size: tuple[int, int] | None
    cost: float
    latency_ms: float
    prompt: str
    parameters: dict[str, Any] = field(default_factory=dict)
    findings: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""
    digital_source_type: str = ""
    seed: int | None = None
    file: str = ""  # the file's name in the comparison's folder; "" for a failed option
    format: str = ""  # png, jpeg or webp, from the file's first bytes
    kept_as: int | None = None  # the image version it was kept as (not in the manifest)


@dataclass(frozen=True, slots=True)
class Held:
    """A comparison waiting for a person to keep (or ignore) its options."""

    token: str
    person_id: int
    workspace_id: int
    brief_id: int
    sku: str
    created_at: datetime
    options: tuple[HeldOption, ...]

    @property
    def expires_at(self) -> datetime:
        return self.created_at + TTL

    def option(self, key: str) -> HeldOption | None:
        return next((o for o in self.options if o.key == key), None)


def scratch_root() -> Path:
    """``SIGNOFF_HOME/scratch/compare``: outside the content store, on this machine."""
    from django.conf import settings

    return Path(settings.SIGNOFF_HOME) / "scratch" / "compare"


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def format_of(data: bytes) -> str:
    """The image format its first bytes say (the formats providers answer in), or ""."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return ""


def option_keys(options: Sequence[Compared]) -> list[str]:
    """Name each option ``provider:index``; with the model too where that alone is ambiguous
    (two models of one provider), and a position where even that repeats."""
    plain = [f"{o.provider}:{o.index}" for o in options]
    keys = [
        k if plain.count(k) == 1 else f"{o.provider}:{o.model}:{o.index}"
        for k, o in zip(plain, options, strict=True)
    ]
    return [k if keys.count(k) == 1 else f"{k}#{n}" for n, k in enumerate(keys, 1)]


def hold(
    options: Sequence[Compared],
    *,
    person_id: int,
    workspace_id: int,
    brief_id: int,
    sku: str,
    root: Path | None = None,
    now: datetime | None = None,
) -> Held:
    """Write the options' files and manifest under a new token; clear expired comparisons."""
    root = root or scratch_root()
    now = _now(now)
    clean_expired(root=root, now=now)
    token = secrets.token_urlsafe(24)
    folder = root / token
    folder.mkdir(parents=True, mode=0o700)
    held_options = []
    for n, (key, option) in enumerate(zip(option_keys(options), options, strict=True), 1):
        name = fmt = ""
        if option.data is not None:
            fmt = format_of(option.data)
            name = f"option-{n}.{fmt or 'bin'}"
            (folder / name).write_bytes(option.data)
        held_options.append(
            HeldOption(
                key=key,
                provider=option.provider,
                model=option.model,
                index=option.index,
                size=tuple(option.size) if option.size else None,  # type: ignore[arg-type]
                cost=float(option.cost),
                latency_ms=float(option.latency_ms),
                prompt=option.prompt,
                parameters=dict(option.parameters),
                findings=list(option.findings),
                error=option.error,
                digital_source_type=option.digital_source_type,
                seed=option.seed,
                file=name,
                format=fmt,
            )
        )
    held = Held(token, person_id, workspace_id, brief_id, sku, now, tuple(held_options))
    _write_manifest(folder, held)  # last: a folder without a manifest is never read
    return held


def load(
    token: str,
    *,
    person_id: int,
    workspace_id: int,
    root: Path | None = None,
    now: datetime | None = None,
) -> Held:
    """The person's comparison ``token``; NotFound if it never was, expired, or is not theirs
    (someone else's comparison does not exist for this person, as another workspace's objects
    do not)."""
    root = root or scratch_root()
    missing = NotFound(f"no comparison {token} (comparisons are kept {_hours()} hours)")
    if not _TOKEN.fullmatch(token or ""):
        raise missing
    try:
        held = _read_manifest(root / token)
    except (OSError, ValueError, KeyError, TypeError):
        raise missing from None
    if (held.person_id, held.workspace_id) != (person_id, workspace_id):
        raise missing
    if _now(now) >= held.expires_at:
        raise missing
    return held


def read_option(held: Held, option: HeldOption, *, root: Path | None = None) -> bytes:
    """The option's bytes as the provider answered them."""
    if not option.file:
        raise NotFound(f"option {option.key} failed and holds no image")
    try:
        return ((root or scratch_root()) / held.token / option.file).read_bytes()
    except OSError:
        raise NotFound(f"option {option.key} is no longer held") from None


@dataclass(slots=True)
class Claim:
    """One option taken for keeping; set ``kept_as`` once the image version is stored."""

    option: HeldOption
    data: bytes
    kept_as: int | None = None


@contextmanager
def keeping(held: Held, key: str, *, root: Path | None = None) -> Iterator[Claim]:
    """Take option ``key`` for keeping, so no second request keeps it too.

    Raises InputError (field ``option``) for an option the comparison does not have or that
    failed, StateError for one already kept or being kept. On leaving: with ``kept_as`` set,
    the option is marked kept and its file removed (the folder too when nothing is left to
    keep); otherwise, or on an error, the file is put back untouched.
    """
    root = root or scratch_root()
    option = held.option(key)
    if option is None:
        known = ", ".join(o.key for o in held.options)
        raise InputError([Problem(f"no option {key!r}; the options are {known}", field="option")])
    if not option.file:
        raise InputError([Problem(f"option {key} failed: {option.error}", field="option")])
    folder = root / held.token
    kept_as = _kept_as(folder, option.file)
    if kept_as is not None:
        raise StateError(
            ErrorCode.INVALID_STATE, f"option {key} was already kept as image {kept_as}"
        )
    source, claimed = folder / option.file, folder / (option.file + _CLAIMED)
    try:
        os.rename(source, claimed)  # atomic: of two requests, one wins
    except OSError:
        raise StateError(
            ErrorCode.INVALID_STATE, f"option {key} is being kept by another request"
        ) from None
    claim = Claim(option, claimed.read_bytes())
    try:
        yield claim
    finally:
        if claim.kept_as is None:
            os.rename(claimed, source)
        else:
            # A marker file per kept option, not a rewritten manifest: two requests keeping
            # two options at once cannot lose each other's mark.
            (folder / (option.file + _KEPT)).write_text(str(claim.kept_as), encoding="ascii")
            claimed.unlink(missing_ok=True)
            if all(_kept_as(folder, o.file) is not None for o in held.options if o.file):
                shutil.rmtree(folder, ignore_errors=True)


def _kept_as(folder: Path, name: str) -> int | None:
    try:
        return int((folder / (name + _KEPT)).read_text(encoding="ascii"))
    except (OSError, ValueError):
        return None


def clean_expired(*, root: Path | None = None, now: datetime | None = None) -> int:
    """Remove comparisons older than ``TTL`` (and folders left without a manifest); return
    how many were removed."""
    root = root or scratch_root()
    if not root.is_dir():
        return 0
    limit = (_now(now) - TTL).timestamp()
    removed = 0
    for folder in root.iterdir():
        if not folder.is_dir() or not _TOKEN.fullmatch(folder.name):
            continue
        try:
            created = _read_manifest(folder).created_at.timestamp()
        except (OSError, ValueError, KeyError, TypeError):
            try:
                created = folder.stat().st_mtime  # its writer stopped before the manifest
            except OSError:
                continue  # removed meanwhile (its last option kept)
        if created <= limit:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def _hours() -> int:
    return int(TTL.total_seconds() // 3600)


def _write_manifest(folder: Path, held: Held) -> None:
    body = asdict(held)
    body["created_at"] = held.created_at.isoformat()
    for option in body["options"]:
        del option["kept_as"]  # written once; kept options are marked by their own files
    partial = folder / (MANIFEST + ".part")
    partial.write_text(json.dumps(body, indent=1), encoding="utf-8")
    os.replace(partial, folder / MANIFEST)  # a reader never sees half a manifest


def _read_manifest(folder: Path) -> Held:
    body = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    options = tuple(
        HeldOption(
            **{**o, "size": tuple(o["size"]) if o.get("size") else None},
            kept_as=_kept_as(folder, o["file"]) if o["file"] else None,
        )
        for o in body["options"]
    )
    return Held(
        token=body["token"],
        person_id=int(body["person_id"]),
        workspace_id=int(body["workspace_id"]),
        brief_id=int(body["brief_id"]),
        sku=body["sku"],
        created_at=datetime.fromisoformat(body["created_at"]),
        options=options,
    )
