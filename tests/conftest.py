import shutil
from pathlib import Path

import pytest

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
