"""User-given file paths, confined to the folder they are relative to.

A brief names its images and references by path. Such a path is only ever read inside the
brief's own folder: an absolute path, a ``..`` step or a symlink that leads out of the folder
would let a brief read (and, through the checks' findings, describe) any file on the server.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath


def path_refusal(relative: str) -> str | None:
    """Say why ``relative`` cannot be a path inside a brief's folder, or None when it can."""
    if not relative or not relative.strip():
        return "a file path cannot be empty"
    if "\x00" in relative:
        return "a file path cannot hold a NUL character"
    if relative.startswith("~"):
        return f"{relative!r} is not relative to the brief's folder; '~' is not expanded"
    if PurePosixPath(relative).is_absolute() or PureWindowsPath(relative).is_absolute():
        return f"{relative!r} is an absolute path; give a path relative to the brief's folder"
    if PureWindowsPath(relative).drive:
        return f"{relative!r} names a drive; give a path relative to the brief's folder"
    parts = PurePosixPath(relative.replace("\\", "/")).parts
    if ".." in parts:
        return f"{relative!r} steps out of the brief's folder with '..'; keep files inside it"
    return None


def confined(base: Path, relative: str) -> Path | None:
    """Return the file ``relative`` names inside ``base``, or None when there is none there.

    Symlinks are followed and the result must still lie inside ``base``: a link that leads
    out of the folder is treated as no file at all.
    """
    if path_refusal(relative) is not None:
        return None
    root = base.resolve()
    try:
        target = (root / relative).resolve()
    except (OSError, RuntimeError):  # a symlink loop, a name the OS refuses
        return None
    if not target.is_relative_to(root) or not target.is_file():
        return None
    return target
