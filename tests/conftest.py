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
