"""Read YAML or JSON into plain data while remembering the line of every value.

Pydantic reports errors by path (``("products", 2, "price")``); this module turns such a
path back into the line the user has to fix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from signoff.core.errors import InputError, Problem

Loc = tuple[str | int, ...]


@dataclass
class SourceDocument:
    """A parsed file: its data and the line of every path in it."""

    path: str
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Loc) -> int | None:
        """Return the line of ``loc`` or of its nearest ancestor that has one."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get(())

    def problem(self, message: str, loc: Loc = ()) -> Problem:
        return Problem(
            message,
            file=self.path,
            line=self.line_of(loc),
            field=".".join(str(p) for p in loc) or None,
        )


# Anchors and aliases let a few hundred bytes expand into gigabytes once every alias is
# copied into plain data ("billion laughs"). No file Signoff reads needs them, so they are
# refused where they appear, before anything is built from them.
_ALIAS_REFUSED = (
    "YAML anchors and aliases (&name, *name) are not accepted; write the value out in full"
)


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that keeps plain values, records each node's line and refuses aliases."""

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _AliasRefused(event.start_mark.line + 1)
        return super().compose_node(parent, index)


class _AliasRefused(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def _construct(loader: _LineLoader, node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> Any:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in result:
                raise InputError(
                    [Problem(f"key {key!r} appears twice", line=key_node.start_mark.line + 1)]
                )
            result[key] = _construct(loader, value_node, (*loc, str(key)), lines)
            lines[(*loc, str(key))] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(loader, item, (*loc, i), lines) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


# Far above any real brief or workspace (a 70,000-product brief is ~15 MB of YAML; product data
# at scale comes as CSV), low enough that a parse cannot take the server's memory.
MAX_DOCUMENT_CHARS = 32_000_000


def parse_yaml(text: str, path: str = "<input>") -> SourceDocument:
    """Parse YAML text; a syntax error becomes an InputError with its line."""
    if len(text) > MAX_DOCUMENT_CHARS:
        raise InputError.single(
            f"the document has {len(text):,} characters; at most {MAX_DOCUMENT_CHARS:,} are "
            "accepted (send product data as a products CSV)",
            file=path,
        )
    loader = _LineLoader(text)
    lines: dict[Loc, int] = {}
    try:
        node = loader.get_single_node()
        data = None if node is None else _construct(loader, node, (), lines)
    except yaml.MarkedYAMLError as exc:
        raise InputError([_syntax_problem(exc, path)]) from exc
    except _AliasRefused as exc:
        raise InputError([Problem(_ALIAS_REFUSED, file=path, line=exc.line)]) from exc
    except InputError as exc:
        raise InputError(
            [Problem(p.message, file=path, line=p.line, field=p.field) for p in exc.problems]
        ) from exc
    finally:
        loader.dispose()
    return SourceDocument(path=path, data=data, lines=lines)


def _syntax_problem(exc: yaml.MarkedYAMLError, path: str) -> Problem:
    """Say what the parser expected, and what it was reading, at the line it stopped.

    The context (``while parsing a flow sequence``) often starts lines earlier than the
    problem, at the bracket or quote that was never closed, so its line is given too.
    """
    mark = exc.problem_mark or exc.context_mark
    message = f"YAML syntax error: {exc.problem or exc}"
    if exc.context:
        message += f" ({exc.context}"
        if exc.context_mark and exc.context_mark.line != (mark.line if mark else None):
            message += f" that starts at line {exc.context_mark.line + 1}"
        message += ")"
    return Problem(message, file=path, line=mark.line + 1 if mark else None)


def read_document(path: str | Path) -> SourceDocument:
    """Read a YAML or JSON file (JSON is YAML, so one parser serves both)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError.single("file not found", file=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise InputError.single("file is not UTF-8 text", file=str(path)) from exc
    if path.suffix.lower() == ".json":
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError.single(
                f"JSON syntax error: {exc.msg}", file=str(path), line=exc.lineno
            ) from exc
    return parse_yaml(text, str(path))


def pydantic_problems(doc: SourceDocument, exc: Any, prefix: Loc = ()) -> list[Problem]:
    """Turn a pydantic ValidationError into located problems."""
    problems = []
    for err in exc.errors():
        loc = (*prefix, *err["loc"])
        expected = err["msg"]
        if err["type"] == "value_error":
            # Our validators word the message; pydantic's "Value error, " adds nothing.
            expected = str(
                err.get("ctx", {}).get("error") or expected.removeprefix("Value error, ")
            )
        elif err["type"] == "missing":
            expected = "this field is required"
        elif err["type"] == "extra_forbidden":
            expected = "unknown field"
        problems.append(doc.problem(expected, loc))
    return problems
