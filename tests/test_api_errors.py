"""The error contract: every 422 says where, and every operation declares what it answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_helpers import api_error
from django.conf import settings
from django.test import Client

BRIEF = "spring-candles-2027"

# What each operation can answer besides its success: 401, 404, 422 and 429 everywhere; 400 (and
# 413, a body over the size limit) where a JSON body is read; 403 where a service checks
# authority; 409 where it checks state.
ERRORS = {401, 404, 422, 429}
WITH_BODY = ERRORS | {400, 413}
DECLARED = {
    ("get", "/api/me"): {200} | ERRORS,
    ("get", "/api/briefs"): {200} | ERRORS,
    ("post", "/api/briefs"): {200, 201, 403, 409} | WITH_BODY,
    ("post", "/api/briefs/parse-notes"): {200, 202, 403} | WITH_BODY,
    ("get", "/api/briefs/parse-notes/{parse_id}"): {200} | ERRORS,
    ("get", "/api/briefs/{slug}"): {200} | ERRORS,
    ("get", "/api/briefs/{slug}/diff"): {200} | ERRORS,
    ("get", "/api/briefs/{slug}/proposals"): {200} | ERRORS,
    ("post", "/api/briefs/{slug}/proposals/accept"): {201, 403, 409} | WITH_BODY,
    ("post", "/api/briefs/{slug}/approve"): {200, 403, 409} | WITH_BODY,
    ("post", "/api/briefs/{slug}/update"): {200, 403, 409} | WITH_BODY,
    ("post", "/api/briefs/{slug}/runs"): {202, 403, 409} | ERRORS,
    ("get", "/api/briefs/{slug}/runs"): {200} | ERRORS,
    ("get", "/api/briefs/{slug}/data-requests"): {200} | ERRORS,
    ("post", "/api/briefs/{slug}/data-requests"): {201, 403} | WITH_BODY,
    ("get", "/api/briefs/{slug}/board"): {200} | ERRORS,
    ("get", "/api/briefs/{slug}/blocking"): {200} | ERRORS,
    ("get", "/api/briefs/{slug}/sla"): {200} | ERRORS,
    ("post", "/api/briefs/{slug}/launch"): {200, 403, 409} | WITH_BODY,
    ("get", "/api/briefs/{slug}/launches"): {200} | ERRORS,
    ("get", "/api/briefs/{slug}/launches/{channel}/manifest"): {200} | ERRORS,
    ("get", "/api/briefs/{slug}/launches/{channel}/bundle"): {200} | ERRORS,
    ("get", "/api/briefs/{slug}/feeds/{channel}"): {200} | ERRORS,
    ("post", "/api/packages/batch"): {200} | WITH_BODY,
    ("get", "/api/packages/{package_id}"): {200} | ERRORS,
    ("get", "/api/packages/{package_id}/versions"): {200} | ERRORS,
    ("get", "/api/packages/{package_id}/findings"): {200} | ERRORS,
    ("post", "/api/packages/{package_id}/review"): {200, 403, 409} | ERRORS,
    ("post", "/api/packages/{package_id}/approve"): {200, 403, 409} | WITH_BODY,
    ("post", "/api/packages/{package_id}/reject"): {200, 403, 409} | WITH_BODY,
    ("post", "/api/packages/{package_id}/edit"): {200, 403, 409} | WITH_BODY,
    ("post", "/api/packages/{package_id}/findings/{finding_id}/apply"): {200, 403, 409} | ERRORS,
    ("post", "/api/packages/{package_id}/reassign"): {200, 403, 409} | WITH_BODY,
    ("post", "/api/packages/{package_id}/comments"): {201} | WITH_BODY,
    ("get", "/api/packages/{package_id}/comments"): {200} | ERRORS,
    ("get", "/api/packages/{package_id}/compare"): {200} | ERRORS,
    ("post", "/api/packages/{package_id}/versions/{number}/ratings"): {201} | WITH_BODY,
    ("post", "/api/claims/{claim_id}/status"): {200, 403} | WITH_BODY,
    ("get", "/api/audit/who-approved"): {200} | ERRORS,
    ("get", "/api/audit/log"): {200} | ERRORS,
    ("get", "/api/audit/verify"): {200} | ERRORS,
    ("get", "/api/memory/search"): {200} | ERRORS,
    ("get", "/api/memory/suggestions"): {200} | ERRORS,
    ("post", "/api/memory/banned-phrases"): {201, 403} | WITH_BODY,
    ("get", "/api/dashboard"): {200} | ERRORS,
    ("get", "/api/dashboard/layout"): {200} | ERRORS,
    ("post", "/api/dashboard/layout"): {200} | WITH_BODY,
    ("post", "/api/review-links"): {201, 403} | WITH_BODY,
    ("get", "/api/review-links"): {200} | ERRORS,
    ("post", "/api/review-links/{link_id}/revoke"): {200, 403} | ERRORS,
    ("get", "/api/briefs/{slug}/references"): {200} | ERRORS,
    ("post", "/api/briefs/{slug}/references"): {201, 403} | WITH_BODY,
    ("post", "/api/briefs/{slug}/images/runs"): {202, 403, 409} | WITH_BODY,
    ("get", "/api/briefs/{slug}/images/runs/{run_id}"): {200} | ERRORS,
    ("get", "/api/briefs/{slug}/images"): {200} | ERRORS,
    ("get", "/api/images/{image_id}"): {200} | ERRORS,
    ("get", "/api/images/{image_id}/file"): {200} | ERRORS,
    ("post", "/api/images/{image_id}/rate"): {200, 409} | WITH_BODY,
    ("post", "/api/images/{image_id}/select"): {200, 403, 409} | WITH_BODY,
    ("post", "/api/images/{image_id}/edits"): {201, 202, 403, 409} | WITH_BODY,
    ("post", "/api/briefs/{slug}/images/compare"): {200, 403, 409} | WITH_BODY,
    ("get", "/api/briefs/{slug}/images/compare/{compare_id}"): {200} | ERRORS,
    ("get", "/api/briefs/{slug}/images/compare/{compare_id}/options/{number}/file"): {200} | ERRORS,
    ("post", "/api/briefs/{slug}/images/compare/{compare_id}/keep"): {201, 403, 409} | WITH_BODY,
    ("post", "/api/briefs/{slug}/renditions"): {202, 403} | WITH_BODY,
    ("get", "/api/renditions/{rendition_id}/file"): {200} | ERRORS,
    ("get", "/api/renditions/{rendition_id}/proof.pdf"): {200} | ERRORS,
    ("get", "/api/images/{image_id}/proof.pdf"): {200} | ERRORS,
    ("get", "/api/tokens"): {200} | ERRORS,
    ("post", "/api/tokens/{token_id}/revoke"): {200, 403} | ERRORS,
    ("get", "/api/briefs/{slug}/deliveries"): {200} | ERRORS,
    ("post", "/api/deliveries/retry"): {200, 403, 409} | WITH_BODY,
    ("get", "/api/briefs/{slug}/changes"): {200} | ERRORS,
    ("get", "/api/claims"): {200} | ERRORS,
    ("get", "/api/metrics"): {200} | ERRORS,
    ("get", "/api/notifications"): {200} | ERRORS,
    ("post", "/api/notifications/digest"): {200} | WITH_BODY,
    ("get", "/api/dashboard/role"): {200} | ERRORS,
    ("post", "/api/performance/imports"): {200, 201, 403} | WITH_BODY,
    ("get", "/api/performance/briefs/{slug}"): {200} | ERRORS,
    ("post", "/api/packages/{package_id}/inline-comments"): {201} | WITH_BODY,
    ("get", "/api/packages/{package_id}/inline-comments"): {200} | ERRORS,
    ("post", "/api/comments/{comment_id}/resolve"): {200, 409} | WITH_BODY,
    ("get", "/api/mentions"): {200} | ERRORS,
    ("post", "/api/packages/{package_id}/edit/check"): {200, 409} | WITH_BODY,
}


def test_every_operation_declares_the_statuses_it_answers(client: Client) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]

    declared = {
        (method, path): {int(status) for status in operation["responses"]}
        for path, operations in paths.items()
        for method, operation in operations.items()
    }

    assert declared == DECLARED


@pytest.mark.django_db
def test_a_rejection_without_a_note_says_which_field(api, spring_run) -> None:
    from signoff.packages.models import Package

    package = Package.objects.filter(stage="S3", state="in_review").order_by("id").first()

    error = api_error(api("maya").post(f"/api/packages/{package.pk}/reject"), 422, "note_required")

    assert [(p["field"], p["line"]) for p in error["problems"]] == [("note", None)]
    assert error["problems"][0]["message"] == error["message"]
    assert error["gate"] == "G2"
    blank = api_error(
        api("maya").post(f"/api/packages/{package.pk}/reject", {"note": "   "}),
        422,
        "note_required",
    )
    assert [p["field"] for p in blank["problems"]] == ["note"]


@pytest.mark.django_db
def test_refusals_other_than_bad_input_carry_no_problems(api, spring_run) -> None:
    from signoff.packages.models import Package

    package = Package.objects.filter(stage="S3", state="in_review").order_by("id").first()

    error = api_error(api("omar").post(f"/api/packages/{package.pk}/reject"), 403, "wrong_role")

    assert error.get("problems", []) == []


@pytest.mark.django_db
def test_a_claim_change_by_anyone_but_compliance_is_the_documented_403(api, spring_run) -> None:
    error = api_error(
        api("ari").post("/api/claims/hand-poured/status", {"status": "withdrawn", "note": "x"}),
        403,
        "wrong_role",
    )

    assert error["required_roles"] == ["compliance"]
    missing = api_error(
        api("omar").post("/api/claims/hand-poured/status", {"status": "withdrawn"}),
        422,
        "invalid_input",
    )
    assert [p["field"] for p in missing["problems"]] == ["note"]
    api_error(
        api("omar").post("/api/claims/no-such-claim/status", {"status": "withdrawn", "note": "x"}),
        404,
        "not_found",
    )


@pytest.mark.django_db
def test_a_launch_channel_is_a_channel_id_never_a_path(api, spring_run, settings, tmp_path) -> None:
    settings.SIGNOFF_HOME = tmp_path
    for channel in ("../../escaped", "web/dashboard.html", "Amazon US"):
        response = api("lena").post(f"/api/briefs/{BRIEF}/launch", {"channel": channel})

        error = api_error(response, 422, "invalid_input")
        assert [p["field"] for p in error["problems"]] == ["channel"]
    assert not (tmp_path.parent / "escaped").exists()
    assert not any(tmp_path.glob("**/.web*"))


@pytest.mark.django_db
def test_text_a_brief_file_cannot_hold_is_422_at_its_field(
    api, lumen_workspace, client, example_dir
) -> None:
    import json

    import yaml

    document = yaml.safe_load((example_dir / "briefs" / "spring-candles.yaml").read_text())
    document["references"] = [r for r in document["references"] if "path" not in r]
    document["deadline"] = str(document["deadline"])
    del document["workspace"]
    # JSON carries control characters and lone surrogates escaped; a brief file cannot hold them
    document["brief"] = "odd-characters"
    document["name"] = "Spring\x80"
    document["products_csv"] = "sku\ud800"

    response = client.post(
        "/api/briefs",
        json.dumps(document),
        content_type="application/json",
        headers=api("ari").headers,
    )

    error = api_error(response, 422, "invalid_input")
    assert {p["field"] for p in error["problems"]} == {"name", "products_csv"}
    assert "U+0080" in error["message"]
    assert not (Path(settings.SIGNOFF_HOME) / "uploads" / "lumen-home" / "odd-characters").exists()
