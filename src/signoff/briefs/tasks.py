"""Background work on briefs. Tasks take ids, never model instances."""

from __future__ import annotations

from django_tasks import task

from signoff.briefs.notes import read_notes


@task()
def parse_notes_task(parse_id: int) -> dict:
    """Read a ``NotesParse`` row's kickoff notes with the brief parser's model; store the result."""
    parse = read_notes(parse_id)
    return {"id": parse_id, "status": parse.status if parse is not None else "deleted"}
