"""Turn a brief sent as JSON (and its products CSV as text) into the files intake reads.

Brief intake reads files so that every problem can name its line; the API writes the request's
brief and CSV under ``$SIGNOFF_HOME/uploads/`` and hands their paths to the same service as
``signoff brief add``. They are kept: the brief version records its source file, which the G1
diff ("user brief vs enriched brief") reads back later.
"""

import json
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
