"""A person acts only inside their own workspace: elsewhere, objects do not exist for them."""

import pytest

from signoff.briefs.approval import approve_brief
from signoff.core.errors import NotFound
from signoff.packages.decisions import approve_package
from signoff.packages.models import Approval, Package
from signoff.workspaces.services import load_workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def outsider(tmp_path):
    path = tmp_path / "acme.yaml"
    path.write_text(
        "workspace: acme\nname: Acme\n"
        "people:\n  - {email: lead@acme.example, name: Lead, roles: [content_lead]}\n"
    )
    workspace, _ = load_workspace(path)
    return workspace.people.get()


def test_a_content_lead_of_another_workspace_cannot_approve_here(spring_run, outsider):
    package = Package.objects.filter(state="in_review").first()
    with pytest.raises(NotFound):
        approve_package(package_id=package.pk, person=outsider)
    package.refresh_from_db()
    assert package.position == "S3/in_review"
    assert not Approval.objects.exists()


def test_g1_is_refused_across_workspaces(spring_brief, outsider):
    with pytest.raises(NotFound):
        approve_brief(brief=spring_brief, person=outsider)
    spring_brief.refresh_from_db()
    assert spring_brief.approved_version is None
