"""Destinations as the worker uses them, and the checks that need this machine: no Django.

The workspace file declares destinations (``signoff.workspaces.schema``); what it cannot say
by itself is whether this machine can use one now: the secret's environment variable is set,
the folder can be written, the feed format exists. :func:`destination_problems` asks, when the
file is loaded and again when a launch is asked for; each problem names the entry's field.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

JSON_FORMAT = "json"  # the folder format that needs no feed exporter: the package documents


class DestinationError(Exception):
    """A destination cannot be used as configured (not worth retrying until someone fixes it)."""


@dataclass(frozen=True, slots=True)
class Destination:
    """One entry of the workspace's ``destinations``, as stored when the file was loaded."""

    name: str
    channel: str
    kind: str
    url: str = ""
    secret_env: str = ""
    path: str = ""
    format: str = JSON_FORMAT
    timeout: float | None = None
    image_base_url: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)  # what a future kind adds

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> Destination:
        known = {f for f in cls.__dataclass_fields__ if f != "options"}
        values = {k: v for k, v in entry.items() if k in known and v is not None}
        return cls(**values, options={k: v for k, v in entry.items() if k not in known})

    def secret(self) -> bytes:
        """Return the secret from its environment variable; DestinationError when unset."""
        value = os.environ.get(self.secret_env, "") if self.secret_env else ""
        if not value:
            raise DestinationError(
                f"destination {self.name!r}: the environment variable {self.secret_env} is not "
                "set here; set it where the worker runs, then retry the delivery"
            )
        return value.encode("utf-8")

    def credential(self, field_name: str) -> str:
        """Return the value of the environment variable the entry's ``field_name`` (a
        ``*_env`` field: ``token_env``) names; DestinationError when it is unset."""
        variable = str(self.options.get(field_name) or "")
        value = os.environ.get(variable, "") if variable else ""
        if not value:
            raise DestinationError(
                f"destination {self.name!r}: the environment variable {variable or '?'} "
                f"({field_name}) is not set here; set it where the worker runs, then retry "
                "the delivery"
            )
        return value


def destinations_of(
    entries: Iterable[Mapping[str, Any]], channel: str | None = None
) -> list[Destination]:
    """Return a workspace's stored destination entries (of one channel) as destinations."""
    return [
        Destination.from_entry(entry)
        for entry in entries
        if channel is None or entry.get("channel") == channel
    ]


def feed_formats() -> frozenset[str]:
    """Return the feed formats a folder destination can write: every format of
    ``signoff.feeds`` where it is installed, and always ``json``."""
    try:
        from signoff.feeds import FORMATS
    except ImportError:
        return frozenset({JSON_FORMAT})
    return frozenset({*FORMATS, JSON_FORMAT})


def resolve_path(path: str, base_dir: Path | None) -> Path:
    """Return a folder destination's path, a relative one read from ``base_dir``."""
    folder = Path(path).expanduser()
    if not folder.is_absolute() and base_dir is not None:
        folder = base_dir / folder
    return folder.resolve()


def destination_problems(
    entries: Iterable[Mapping[str, Any]],
    *,
    channels: Iterable[str] | None = None,
    base_dir: Path | None = None,
) -> list[tuple[tuple[str | int, ...], str]]:
    """Return ``(location, message)`` for each thing that stops a destination working here.

    ``location`` is the path of the field inside the workspace file (``("destinations", 0,
    "secret_env")``). ``channels``, when given, are the workspace's channels: a destination
    for another channel would never be used.
    """
    problems = []
    channel_ids = set(channels) if channels is not None else None
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            continue  # the schema says what is wrong with it
        where = ("destinations", index)
        name = entry.get("name")
        if isinstance(name, str) and name in seen:
            problems.append(((*where, "name"), f"destination name {name!r} is used twice"))
        seen.add(name)
        channel = entry.get("channel")
        if channel_ids is not None and isinstance(channel, str) and channel not in channel_ids:
            listed = ", ".join(sorted(channel_ids)) or "none"
            problems.append(
                (
                    (*where, "channel"),
                    f"channel {channel!r} is not one of the workspace's channels ({listed})",
                )
            )
        kind = entry.get("kind")
        secret_env = entry.get("secret_env")
        if isinstance(secret_env, str) and secret_env and not os.environ.get(secret_env):
            problems.append(
                (
                    (*where, "secret_env"),
                    f"the environment variable {secret_env} is not set: destination "
                    f"{name!r} signs with the secret it holds (set it; never write the secret "
                    "in the file)",
                )
            )
        # Every other credential a channel API's entry names (token_env, refresh_token_env..).
        for key, variable in entry.items():
            if key == "secret_env" or not str(key).endswith("_env"):
                continue
            if isinstance(variable, str) and variable and not os.environ.get(variable):
                problems.append(
                    (
                        (*where, key),
                        f"the environment variable {variable} is not set: destination "
                        f"{name!r} reads its {key.removesuffix('_env').replace('_', ' ')} "
                        "from it (set it; never write the credential in the file)",
                    )
                )
        if kind == "folder":
            path = entry.get("path")
            usable = isinstance(path, str) and path
            problem = folder_problem(resolve_path(path, base_dir)) if usable else ""
            if problem:
                problems.append(((*where, "path"), problem))
            formats = feed_formats()
            if entry.get("format", JSON_FORMAT) not in formats:
                problems.append(
                    (
                        (*where, "format"),
                        f"unknown feed format {entry.get('format')!r}; expected one of "
                        f"{', '.join(sorted(formats))}",
                    )
                )
    return problems


def folder_problem(folder: Path) -> str:
    """Return why files cannot be written into ``folder`` (made if missing), or ""."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".signoff-check-"):
            pass
    except OSError as exc:
        return f"the folder {folder} cannot be written: {exc.strerror or exc}"
    return ""
