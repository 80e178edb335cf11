"""Schemathesis against the API's own OpenAPI document: every GET and every POST, with a
valid token.

In-process through the WSGI app (same database connection as the test), derandomized and
with few examples per operation so it stays deterministic and quick. Each operation is tried
with real path parameters (the spring brief, a drafted package, its finding, a review link),
so the 2xx bodies are checked against their schemas; with generated ones (mostly 404s); and,
where it has query parameters or a body, with invalid ones (422s). POSTs change the data as
they go (approvals, edits, links, a new brief): whatever state they leave, every answer must
be a documented status with a documented body, never a 5xx.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

BRIEF = "spring-candles-2027"
EXAMPLES = 12
POST_EXAMPLES = 10  # per operation and mode: POSTs cost more (intake, drafting checks, files)
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def wsgi_app(db):
    """The real WSGI app, minus closing "old" connections per request (as Django's test
    client does), which would drop the test's transaction."""
    from django.core.signals import request_started
    from django.db import close_old_connections

    from signoff.config.wsgi import application

    request_started.disconnect(close_old_connections)
    try:
        yield application
    finally:
        request_started.connect(close_old_connections)


@pytest.fixture
def get_operations(wsgi_app):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", wsgi_app)
    operations = [result.ok() for result in schema.include(method="GET").get_all_operations()]
    assert len(operations) >= 13
    return operations


@pytest.fixture
def post_operations(wsgi_app):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", wsgi_app)
    operations = [result.ok() for result in schema.include(method="POST").get_all_operations()]
    assert len(operations) >= 20
    return operations


@pytest.fixture
def token(spring_run) -> str:
    from signoff.packages.decisions import approve_package
    from signoff.packages.models import Package
    from signoff.workspaces.models import Person
    from signoff.workspaces.tokens import issue_token

    # one approval, so who-approved and the log have something to say
    package = Package.objects.filter(stage="S3", state="in_review").order_by("id").first()
    maya = Person.objects.get(email="maya@lumen.example")
    approve_package(package_id=package.pk, person=maya)
    return issue_token(email="maya@lumen.example", workspace="lumen-home")


def _fuzz(
    operation,
    headers: dict,
    path_parameters: dict | None,
    mode: GenerationMode = GenerationMode.POSITIVE,
    examples: int = EXAMPLES,
) -> None:
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode, headers=headers, path_parameters=path_parameters))
    def check(case) -> None:
        response = case.call()
        case.validate_response(response, checks=CHECKS)

    check()


def test_every_get_conforms_to_the_schema(get_operations, token, spring_run) -> None:
    from signoff.packages.models import Package

    headers = {"Authorization": f"Bearer {token}"}
    package = Package.objects.filter(current_version__isnull=False).order_by("id").first()
    real = {"slug": BRIEF, "package_id": package.pk}
    for operation in get_operations:
        names = {p.name for p in operation.path_parameters}
        if names:
            _fuzz(operation, headers, {k: v for k, v in real.items() if k in names})
        _fuzz(operation, headers, None)
        if operation.query:  # invalid query values: 422 with the envelope, never a 5xx
            _fuzz(operation, headers, None, GenerationMode.NEGATIVE)


def test_gets_without_a_token_are_401_as_documented(get_operations, lumen_workspace) -> None:
    for operation in get_operations:
        _fuzz(operation, {"Authorization": "Bearer so_wrong"}, None)


def test_every_post_conforms_to_the_schema(post_operations, token, spring_run) -> None:
    from signoff.packages.models import Finding, Package
    from signoff.sharing.services import create_review_link
    from signoff.workspaces.models import Person

    headers = {"Authorization": f"Bearer {token}"}
    package = Package.objects.filter(current_version__isnull=False).order_by("id").first()
    finding = Finding.objects.filter(version__package__current_version__isnull=False).first()
    maya = Person.objects.get(email="maya@lumen.example")
    link, _ = create_review_link(maya, [package.pk])
    real = {
        "slug": BRIEF,
        "package_id": finding.version.package_id if finding else package.pk,
        "finding_id": finding.pk if finding else 1,
        "number": 1,
        "claim_id": "hand-poured",
        "link_id": link.pk,
    }
    for operation in post_operations:
        names = {p.name for p in operation.path_parameters}
        if names:
            params = {k: v for k, v in real.items() if k in names}
            _fuzz(operation, headers, params, examples=POST_EXAMPLES)
        _fuzz(operation, headers, None, examples=POST_EXAMPLES)
        if operation.body or operation.query:  # invalid bodies: 422 with the envelope
            params = {k: v for k, v in real.items() if k in names} if names else None
            _fuzz(operation, headers, params, GenerationMode.NEGATIVE, examples=POST_EXAMPLES)


def test_posts_without_a_token_are_401_as_documented(post_operations, lumen_workspace) -> None:
    for operation in post_operations:
        _fuzz(operation, {"Authorization": "Bearer so_wrong"}, None, examples=3)
