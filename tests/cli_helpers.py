"""What the tests of the `signoff` command share besides fixtures (those are in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

BRIEF = "spring-candles-2027"


def ref(sku: str, channel: str) -> str:
    """Name a package of the spring brief as the command does: brief/sku/channel."""
    return f"{BRIEF}/{sku}/{channel}"


def approve_channel(cli: Callable[..., Any], tokens: dict[str, str], channel: str) -> list[str]:
    """Give every package of ``channel`` the images it requires, then review and batch-approve
    each at G2, G3 and G4; return them."""
    from image_helpers import give_images

    from signoff.packages.models import Package

    packages = list(Package.objects.filter(channel=channel).order_by("id"))
    give_images(packages)
    refs = [ref(p.sku, p.channel) for p in packages]
    for name in ("maya", "omar", "lena"):
        assert cli("review", *refs, token=tokens[name]).exit_code == 0
        result = cli("approve", *refs, token=tokens[name])
        assert result.exit_code == 0, result.output
        assert result.stdout.count(": approved: ") == len(refs)
    return refs


class OwnHome:
    """A SIGNOFF_HOME of its own (SQLite) driven through the installed `signoff` command in
    subprocesses: the Lumen Home workspace loaded and the spring brief added and past G1."""

    def __init__(self, home: Path) -> None:
        repo = Path(__file__).resolve().parents[1]
        self.home = home
        self.database = home / "signoff.sqlite3"
        self.env = {k: v for k, v in os.environ.items() if k != "SIGNOFF_DATABASE_URL"}
        self.env |= {"SIGNOFF_HOME": str(home), "PYTHONPATH": str(repo / "tests")}
        examples = repo / "src" / "signoff" / "demo" / "lumen-home"
        for args in (
            ("init",),
            ("load", str(examples / "workspace.yaml")),
            (
                "brief",
                "add",
                str(examples / "briefs" / "spring-candles.yaml"),
                "--products",
                str(examples / "products.csv"),
            ),
        ):
            self.ok(*args)
        token = self.ok("token", "issue", "maya@lumen.example").stdout.strip()
        self.ok("brief", "approve", BRIEF, "--yes", "--token", token)

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        command = [str(Path(sys.executable).parent / "signoff"), *args]
        return subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=120)

    def ok(self, *args: str) -> subprocess.CompletedProcess:
        done = self.cli(*args)
        assert done.returncode == 0, done.stderr
        return done

    def python(self, script: str, **options: Any) -> subprocess.Popen:
        """Start ``python -c script`` against this home."""
        return subprocess.Popen([sys.executable, "-c", script], env=self.env, **options)
