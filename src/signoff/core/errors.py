"""Errors a user can act on: each says where (file, line or row, field) and what was expected."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one input."""

    message: str  # What is wrong and what was expected.
    file: str | None = None
    line: int | None = None  # 1-based line (YAML) or row (CSV, header is row 1).
    field: str | None = None  # Dotted path inside the document, e.g. ``products.2.price``.

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            where += f": {self.field}"
        return f"{where}: {self.message}"


@dataclass
class InputError(Exception):
    """Bad input; nothing from it was stored."""

    code: ClassVar[str] = "invalid_input"  # stable: the API's 422 and the screens show it

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)

    @classmethod
    def single(cls, message: str, **where: object) -> InputError:
        return cls([Problem(message, **where)])  # type: ignore[arg-type]


class NotFound(Exception):
    """A named object (workspace, brief, package, channel) does not exist."""

    code: ClassVar[str] = "not_found"  # stable: the API's 404 and the screens show it
