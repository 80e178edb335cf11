"""Reassigning a package's owner: who may, to whom, and what the audit log says."""

from __future__ import annotations

import pytest

from signoff.audit.models import Event
from signoff.core.errors import InputError, NotFound
from signoff.packages.assignment import PACKAGE_REASSIGNED, reassign_item, reassign_package
from signoff.packages.decisions import decide_each
from signoff.packages.models import Package
from signoff.workflow import AuthorityError, ErrorCode

ARI = "ari@lumen.example"


@pytest.fixture
def package(spring_run) -> Package:
    return Package.objects.order_by("id").first()


@pytest.mark.django_db
def test_a_gate_owner_reassigns_and_the_audit_log_says_from_whom_to_whom(package, person):
    before = package.owner

    result = reassign_package(package_id=package.pk, person=person("maya"), owner_email=ARI)

    assert result.ok
    assert result.outcome == "reassigned"
    assert ARI in result.message
    package.refresh_from_db()
    assert package.owner == ARI
    event = Event.objects.filter(action=PACKAGE_REASSIGNED).get()
    assert event.actor == "maya@lumen.example"
    assert event.subject_id == str(package.pk)
    assert event.data == {"from": before, "to": ARI}
    assert event.sku == package.sku
    assert event.channel == package.channel


@pytest.mark.django_db
def test_the_owner_email_is_matched_without_case(package, person):
    reassign_package(
        package_id=package.pk, person=person("ari"), owner_email=" Omar@Lumen.example "
    )

    package.refresh_from_db()
    assert package.owner == "omar@lumen.example"


@pytest.mark.django_db
def test_an_unchanged_owner_is_refused_and_records_nothing(package, person):
    reassign_package(package_id=package.pk, person=person("maya"), owner_email=ARI)

    with pytest.raises(InputError) as refused:
        reassign_package(package_id=package.pk, person=person("maya"), owner_email=ARI)

    assert "already owned by ari@lumen.example" in refused.value.problems[0].message
    assert refused.value.problems[0].field == "owner"
    assert Event.objects.filter(action=PACKAGE_REASSIGNED).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("owner", ["", "   ", "nobody@lumen.example", "maya@other.example"])
def test_the_new_owner_must_be_an_active_person_of_the_workspace(package, person, owner):
    with pytest.raises(InputError) as refused:
        reassign_package(package_id=package.pk, person=person("maya"), owner_email=owner)

    assert refused.value.problems[0].field == "owner"
    assert not Event.objects.filter(action=PACKAGE_REASSIGNED).exists()


@pytest.mark.django_db
def test_an_inactive_person_cannot_become_owner(package, person):
    ari = person("ari")
    ari.active = False
    ari.save(update_fields=["active"])

    with pytest.raises(InputError):
        reassign_package(package_id=package.pk, person=person("maya"), owner_email=ARI)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["sofia", "daniel"])
def test_only_contributors_may_reassign(package, person, name):
    with pytest.raises(AuthorityError) as refused:
        reassign_package(package_id=package.pk, person=person(name), owner_email=ARI)

    assert refused.value.code is ErrorCode.WRONG_ROLE
    assert "operator" in refused.value.message
    package.refresh_from_db()
    assert package.owner != ARI


@pytest.mark.django_db
def test_roles_count_as_they_are_at_the_moment_of_the_decision(package, person):
    maya = person("maya")
    stale = person("maya")
    maya.roles = ["cmo"]
    maya.save(update_fields=["roles"])

    with pytest.raises(AuthorityError):
        reassign_package(package_id=package.pk, person=stale, owner_email=ARI)


@pytest.mark.django_db
def test_a_package_of_another_workspace_does_not_exist(package, person):
    with pytest.raises(NotFound):
        reassign_package(package_id=10**9, person=person("maya"), owner_email=ARI)


@pytest.mark.django_db
def test_a_batch_reports_each_item_through_decide_each(spring_run, person):
    first, second = Package.objects.order_by("id")[:2]
    maya = person("maya")
    reassign_package(package_id=second.pk, person=maya, owner_email=ARI)

    results = decide_each(
        [first.pk, second.pk, 10**9],
        lambda package_id: reassign_item(package_id=package_id, person=maya, owner_email=ARI),
    )

    assert [(r.package_id, r.ok, r.code, r.http_status) for r in results] == [
        (first.pk, True, None, 200),
        (second.pk, False, "invalid_input", 422),
        (10**9, False, "not_found", 404),
    ]
    assert "already owned" in results[1].message
