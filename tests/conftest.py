import os
import shutil
from pathlib import Path

import pytest
from cli_helpers import BRIEF

# Image tests that touch no database (pixels, files, the Images API fake) run once, in the
# SQLite pass: the PostgreSQL pass (`make test` with SIGNOFF_DATABASE_URL) is there for what
# the database does, and would only repeat the same pixel work (minutes of it).
if os.environ.get("SIGNOFF_DATABASE_URL", "").startswith("postgres"):
    collect_ignore_glob = [
        "test_imageqc_*.py",
        "test_visuals_imaging.py",
        "test_visuals_compositor.py",
        "test_visuals_renditions.py",
        "test_visuals_openai_images.py",
    ]

DEMO_EXAMPLE = Path(__file__).resolve().parents[1] / "src" / "signoff" / "demo" / "lumen-home"
SHARED_EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "examples"


@pytest.fixture
def example_dir(tmp_path: Path) -> Path:
    """A private copy of the Lumen Home example files that a test may change."""
    target = tmp_path / "lumen-home"
    shutil.copytree(DEMO_EXAMPLE, target)
    return target


@pytest.fixture
def lumen_workspace(db, example_dir: Path):
    from signoff.workspaces.services import load_workspace

    workspace, _ = load_workspace(example_dir / "workspace.yaml")
    return workspace


@pytest.fixture
def spring_brief(lumen_workspace, example_dir: Path):
    from signoff.briefs.services import add_brief

    return add_brief(
        example_dir / "briefs" / "spring-candles.yaml",
        products_csv=example_dir / "products.csv",
    ).brief


@pytest.fixture
def person(lumen_workspace):
    """Return a Lumen Home person by first name: person("maya")."""

    def find(name: str):
        return lumen_workspace.people.get(email=f"{name}@lumen.example")

    return find


@pytest.fixture
def approved_spring_brief(spring_brief, person):
    from signoff.briefs.approval import approve_brief

    approve_brief(brief=spring_brief, person=person("maya"))
    spring_brief.refresh_from_db()
    return spring_brief


@pytest.fixture
def spring_run(approved_spring_brief):
    from signoff.packages.services import run_brief

    return run_brief(approved_spring_brief)


@pytest.fixture(scope="session", autouse=True)
def _flushable_audit_log():
    """Let `transaction=True` tests empty the append-only audit table between tests."""
    from signoff.audit.testing import flushable_audit_log

    with flushable_audit_log():
        yield


@pytest.fixture
def api(client, lumen_workspace):
    """Call the API as a person: api("maya").get("/api/me")."""
    from signoff.workspaces.tokens import issue_token

    tokens: dict[str, str] = {}

    class As:
        def __init__(self, email: str, workspace: str) -> None:
            key = f"{workspace}/{email}"
            if key not in tokens:
                tokens[key] = issue_token(email=email, workspace=workspace)
            self.headers = {"Authorization": f"Bearer {tokens[key]}"}

        def get(self, url: str, **params: object):
            return client.get(url, params, headers=self.headers)

        def post(self, url: str, body: object = None):
            return client.post(
                url, body or {}, content_type="application/json", headers=self.headers
            )

    def person(name: str, workspace: str = "lumen-home") -> As:
        domain = "lumen.example" if workspace == "lumen-home" else "other.example"
        return As(f"{name}@{domain}", workspace)

    return person


@pytest.fixture
def other_workspace(lumen_workspace, example_dir: Path):
    """A second brand, with the same people's names at another domain."""
    from signoff.workspaces.services import load_workspace

    text = (example_dir / "workspace.yaml").read_text(encoding="utf-8")
    text = text.replace("workspace: lumen-home", "workspace: other-brand")
    text = text.replace("@lumen.example", "@other.example")
    path = example_dir / "other-workspace.yaml"
    path.write_text(text, encoding="utf-8")
    workspace, _ = load_workspace(path)
    return workspace


# --- the `signoff` command through click's runner (same process, test database) ---------------


@pytest.fixture
def cli():
    """Run the `signoff` command: cli("approve", ref, token=maya) returns click's result."""
    from click.testing import CliRunner

    from signoff.cli import main

    runner = CliRunner()

    def invoke(*args: str, token: str | None = None):
        # SIGNOFF_TOKEN is whatever the test says, never what the shell running it has.
        return runner.invoke(main, list(args), catch_exceptions=False, env={"SIGNOFF_TOKEN": token})

    return invoke


@pytest.fixture
def cli_workspace(cli, example_dir: Path) -> Path:
    """The Lumen Home workspace loaded by `signoff load`; return the example files' folder."""
    assert cli("load", str(example_dir / "workspace.yaml")).exit_code == 0
    return example_dir


@pytest.fixture
def cli_brief(cli, cli_workspace: Path) -> Path:
    """The spring brief added with its PIM CSV by `signoff brief add`, not yet past G1."""
    added = cli(
        "brief",
        "add",
        str(cli_workspace / "briefs" / "spring-candles.yaml"),
        "--products",
        str(cli_workspace / "products.csv"),
    )
    assert added.exit_code == 0, added.output
    return cli_workspace


@pytest.fixture
def tokens(cli, cli_brief: Path) -> dict[str, str]:
    """The spring brief past G1 and run by the command; each Lumen Home person's token, by name."""
    issued = {}
    for name in ("maya", "omar", "lena", "ari", "sofia"):
        result = cli("token", "issue", f"{name}@lumen.example")
        assert result.exit_code == 0, result.output
        issued[name] = result.stdout.strip()
        assert issued[name].startswith("so_")
    assert cli("brief", "approve", BRIEF, "--yes", token=issued["maya"]).exit_code == 0
    assert cli("run", BRIEF).exit_code == 0
    return issued


# --- the web screens through the test client ----------------------------------------------------


@pytest.fixture
def as_person(client, person):
    """Sign the test client in as a Lumen Home person: as_person("maya") returns the client."""
    from signoff.web.accounts import ensure_user

    def sign_in(name: str):
        client.force_login(ensure_user(person(name)))
        return client

    return sign_in


@pytest.fixture
def users(lumen_workspace) -> None:
    """Give every Lumen Home person a user who signs in with ``fakes.browsing.PASSWORD``."""
    from fakes.browsing import PASSWORD

    from signoff.web.accounts import ensure_users

    ensure_users(lumen_workspace, PASSWORD)
