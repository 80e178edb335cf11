"""The `signoff` command: every use case from the terminal.

Read commands take ``--json`` and then print one JSON document on stdout and nothing else;
progress and messages go to stderr.

One module per command group. `base` holds the `main` group and what the commands share; a
command module imports from `signoff.cli.base` and registers its commands on `main` (or on a
group of its own, `@main.group()`). To add one (say `images.py` with an `images` group), write
the module that way and import it below: importing it is what registers its commands.
`signoff --help` lists commands by name, whatever the order here.
"""

from __future__ import annotations

from signoff.cli import (  # noqa: F401 - imported so their commands register on `main`
    audit,
    board,
    briefs,
    claims,
    comments,
    compare,
    decisions,
    deliveries,
    demo,
    export,
    image_checks,
    images,
    launch,
    memory,
    metrics,
    notify,
    performance,
    refs,
    runs,
    serve,
    tokens,
)
from signoff.cli.base import main

__all__ = ["main"]
