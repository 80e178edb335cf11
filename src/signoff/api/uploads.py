"""Turn a brief sent as JSON (and its products CSV as text) into the files intake reads.

Brief intake reads files so that every problem can name its line; the API writes the request's
brief and CSV under ``$SIGNOFF_HOME/uploads/`` and hands their paths to the same service as
``signoff brief add``. They are kept: the brief version records its source file, which the G1
diff ("user brief vs enriched brief") reads back later.
"""

import json
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from signoff.briefs.schema import BriefFile
from signoff.core.errors import InputError, Problem
from signoff.workspaces.models import Person


class BriefIn(BriefFile):
    """A brief document, as in a brief file, plus its products CSV as text.

    ``workspace`` may be left out: it is the requesting person's workspace. File paths in
    ``products[].images`` and ``references[].path`` cannot be uploaded through the API yet.
    """

    workspace: str | None = None  # type: ignore[assignment]
    products_csv: str | None = None


# What a brief file cannot hold: YAML's non-printable characters (C0 and C1 controls other
# than tab and line breaks, lone surrogates, U+FFFE and U+FFFF). JSON can carry them escaped.
_UNPRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def _unprintable(value: Any, path: tuple[str, ...] = ()) -> Iterator[Problem]:
    """Yield a problem, at its field path, for each text holding a character a file cannot."""
    if isinstance(value, str):
        found = _UNPRINTABLE.search(value)
        if found:
            yield Problem(
                f"contains the control character U+{ord(found.group()):04X}; remove it",
                field=".".join(path) or None,
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _unprintable(key, (*path, str(key)))
            yield from _unprintable(item, (*path, str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _unprintable(item, (*path, str(i)))


@dataclass(frozen=True, slots=True)
class StagedBrief:
    brief: Path
    products_csv: Path | None


@contextmanager
def staged_brief(payload: BriefIn, person: Person) -> Iterator[StagedBrief]:
    """Write the brief (and CSV) for intake; remove them again if intake refuses them."""
    own = person.workspace.slug
    if payload.workspace not in (None, own):
        raise InputError(
            [Problem(f"you can only add briefs to your own workspace, {own!r}", field="workspace")]
        )
    document: dict[str, Any] = payload.model_dump(
        mode="json", exclude_unset=True, exclude={"products_csv"}
    )
    problems = list(_unprintable({**document, "products_csv": payload.products_csv or ""}))
    if problems:
        raise InputError(problems)
    document["workspace"] = own
    folder = Path(settings.SIGNOFF_HOME) / "uploads" / own / payload.brief / uuid.uuid4().hex
    folder.mkdir(parents=True)
    brief_path = folder / "brief.json"
    brief_path.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")
    csv_path = None
    if payload.products_csv is not None:
        csv_path = folder / "products.csv"
        csv_path.write_text(payload.products_csv, encoding="utf-8")
    try:
        yield StagedBrief(brief_path, csv_path)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
