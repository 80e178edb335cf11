"""The REST API: auth, workspace scoping, gate decisions, errors, board pagination, OpenAPI."""

from pathlib import Path

from api_helpers import api_error
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

BRIEF = "spring-candles-2027"


def _rows(api, name: str = "maya", **filters: object) -> list[dict]:
    response = api(name).get(f"/api/briefs/{BRIEF}/board", limit=500, **filters)
    assert response.status_code == 200, response.json()
    return response.json()["items"]


def _waiting_on_g2(api) -> list[dict]:
    """Packages at S3/in_review (waiting on G2) with no blocking finding."""
    rows = _rows(api, state="in_review")
    return [r for r in rows if r["stage"] == "S3" and r["findings"]["block"] == 0]


# ---- auth and scoping -----------------------------------------------------------------------


def test_no_token_is_401_with_the_error_envelope(client: Client, lumen_workspace) -> None:
    response = client.get("/api/me")

    api_error(response, 401, "unauthenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_token_is_401(client: Client, lumen_workspace) -> None:
    response = client.get("/api/briefs", headers={"Authorization": "Bearer so_not-a-token"})

    error = api_error(response, 401, "unauthenticated")
    assert "unknown" in error["message"]


def test_me_is_the_tokens_person(api) -> None:
    body = api("maya").get("/api/me").json()

    assert body == {
        "email": "maya@lumen.example",
        "name": "Maya Chen",
        "roles": ["content_lead"],
        "workspace": {"slug": "lumen-home", "name": "Lumen Home"},
    }


def test_another_workspaces_objects_are_404(api, spring_run, other_workspace) -> None:
    # given a person of another brand
    stranger = api("maya", "other-brand")
    package = _waiting_on_g2(api)[0]["id"]

    # then Lumen's briefs and packages do not exist for them
    assert stranger.get("/api/briefs").json() == []
    api_error(stranger.get(f"/api/briefs/{BRIEF}"), 404, "not_found")
    api_error(stranger.get(f"/api/briefs/{BRIEF}/board"), 404, "not_found")
    api_error(stranger.get(f"/api/packages/{package}"), 404, "not_found")
    api_error(stranger.get("/api/audit/log", package=package), 404, "not_found")
    api_error(stranger.post(f"/api/packages/{package}/approve"), 404, "not_found")
    # claims are compliance's to change, and Lumen's registry is not theirs anyway
    withdrawn = stranger.post(
        "/api/claims/hand-poured/status", {"status": "withdrawn", "note": "x"}
    )
    api_error(withdrawn, 403, "wrong_role")
    assert spring_run.packages == 36
    assert not _rows(api, state="blocked", sku="LUM-SPR-LAV-08")
    batch = stranger.post("/api/packages/batch", {"action": "review", "ids": [package]})
    assert batch.status_code == 200
    assert batch.json()["results"][0]["code"] == "not_found"
    assert {e["workspace"] for e in stranger.get("/api/audit/log").json()} == {"other-brand"}
    # and nothing moved
    assert api("maya").get(f"/api/packages/{package}").json()["stage"] == "S3"


# ---- gate decisions -------------------------------------------------------------------------


def test_maya_approves_g2_and_the_package_moves_to_compliance(api, spring_run) -> None:
    package = _waiting_on_g2(api)[0]["id"]

    response = api("maya").post(f"/api/packages/{package}/approve", {"note": "reads well"})

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "package_id": package,
        "ok": True,
        "outcome": "approved",
        "message": "G2 approved; now S5/in_review",
        "code": None,
        "http_status": 200,
        "position": "S5/in_review",
    }
    detail = api("maya").get(f"/api/packages/{package}").json()
    assert (detail["stage"], detail["state"]) == ("S5", "in_review")
    who = api("omar").get(
        "/api/audit/who-approved", sku=detail["sku"], channel=detail["channel"], gate="G2"
    )
    assert who.json()["person"] == "maya@lumen.example"
    assert who.json()["content_hash"] == detail["version"]["content_hash"]


def test_wrong_role_is_403_wrong_role(api, spring_run) -> None:
    package = _waiting_on_g2(api)[0]["id"]

    response = api("omar").post(f"/api/packages/{package}/approve")

    error = api_error(response, 403, "wrong_role")
    assert error["gate"] == "G2"
    assert error["required_roles"] == ["content_lead"]


def test_approving_your_own_edit_is_403_maker_checker(api, spring_run) -> None:
    # given maya edited the package
    package = _waiting_on_g2(api)[0]["id"]
    fields = api("maya").get(f"/api/packages/{package}").json()["version"]["fields"]
    name, value = next((k, v) for k, v in fields.items() if isinstance(v, str) and v)
    edited = api("maya").post(
        f"/api/packages/{package}/edit",
        {"changes": {name: value.rstrip(".") + " today."}, "note": "tighter"},
    )
    assert edited.status_code == 200, edited.json()
    assert edited.json()["result"]["outcome"] == "edited"
    assert any(name in line for line in edited.json()["changes"])

    # when she approves it
    response = api("maya").post(f"/api/packages/{package}/approve")

    # then
    api_error(response, 403, "maker_checker")
    versions = api("maya").get(f"/api/packages/{package}/versions").json()
    assert [(v["number"], v["parent"]) for v in versions] == [(1, None), (2, 1)]
    assert versions[1]["author"] == "maya@lumen.example"
    assert versions[1]["changes"] == edited.json()["changes"]


def test_edit_of_an_unknown_field_is_422_at_its_path(api, spring_run) -> None:
    package = _waiting_on_g2(api)[0]["id"]

    response = api("maya").post(f"/api/packages/{package}/edit", {"changes": {"nope": "x"}})

    error = api_error(response, 422, "invalid_input")
    assert [p["field"] for p in error["problems"]] == ["changes.nope"]


def test_reject_without_a_note_is_422_note_required(api, spring_run) -> None:
    package = _waiting_on_g2(api)[0]["id"]

    api_error(api("maya").post(f"/api/packages/{package}/reject"), 422, "note_required")

    rejected = api("maya").post(f"/api/packages/{package}/reject", {"note": "too long"})
    assert rejected.json()["position"] == "S2/rejected"


def test_approving_a_blocked_package_is_409(api, spring_run) -> None:
    blocked = _rows(api, state="blocked")
    assert blocked, "the Rhubarb candle lacks a GTIN and burn time"

    response = api("maya").post(f"/api/packages/{blocked[0]['id']}/approve")

    api_error(response, 409, "invalid_state")


def test_batch_reports_each_item(api, spring_run) -> None:
    # given maya reviewed one package but not another
    reviewed, unreviewed = (r["id"] for r in _waiting_on_g2(api)[:2])
    blocked = _rows(api, state="blocked")[0]["id"]
    assert api("maya").post(f"/api/packages/{reviewed}/review").json()["outcome"] == "reviewed"

    # when she batch-approves them with a blocked one and one that does not exist
    response = api("maya").post(
        "/api/packages/batch",
        {"action": "approve", "ids": [reviewed, unreviewed, blocked, 999_999], "note": "ok"},
    )

    # then each item says what happened to it
    assert response.status_code == 200
    body = response.json()
    outcomes = [(r["package_id"], r["ok"], r["code"], r["http_status"]) for r in body["results"]]
    assert outcomes == [
        (reviewed, True, None, 200),
        (unreviewed, False, "not_reviewed", 409),
        (blocked, False, "invalid_state", 409),
        (999_999, False, "not_found", 404),
    ]
    assert (body["ok"], body["refused"]) == (1, 3)
    assert body["results"][0]["position"] == "S5/in_review"


def test_batch_with_an_unknown_action_is_422(api, spring_run) -> None:
    response = api("maya").post("/api/packages/batch", {"action": "publish", "ids": [1]})

    error = api_error(response, 422, "invalid_input")
    assert [p["field"] for p in error["problems"]] == ["action"]


# ---- briefs ---------------------------------------------------------------------------------


def _brief_body(example_dir: Path) -> dict:
    """The spring brief as a JSON body: the file's document, without file references."""
    import yaml

    document = yaml.safe_load((example_dir / "briefs" / "spring-candles.yaml").read_text())
    document["brief"] = "spring-api"
    document["references"] = [r for r in document["references"] if "path" not in r]
    document["deadline"] = str(document["deadline"])
    del document["workspace"]
    return document


def test_add_a_brief_approve_g1_and_run_it(
    api, lumen_workspace, example_dir: Path, settings
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    # given ari (operator) adds a brief with its PIM CSV
    body = _brief_body(example_dir)
    body["products_csv"] = (example_dir / "products.csv").read_text()
    added = api("ari").post("/api/briefs", body)
    assert added.status_code == 201, added.json()
    assert added.json()["brief"]["latest_version"] == 1
    assert added.json()["brief"]["state"] == "in_review"
    assert {"sku": "LUM-SPR-LAV-08", "field": "gtin", "source": "csv"} in added.json()["sources"]

    # the same content again stores nothing new
    again = api("ari").post("/api/briefs", body)
    assert (again.status_code, again.json()["created_version"]) == (200, False)

    # running before G1 is a state error
    api_error(api("ari").post("/api/briefs/spring-api/runs"), 409, "invalid_state")

    # G1 shows the diff and is approved by maya
    diff = api("maya").get("/api/briefs/spring-api/diff").json()
    assert diff["lines"][0].startswith("--- user brief")
    approved = api("maya").post("/api/briefs/spring-api/approve", {"note": "go"})
    assert approved.status_code == 200, approved.json()
    assert (approved.json()["gate"], approved.json()["version"]) == ("G1", 1)

    # and the run is queued for a worker (here the immediate backend), which drafts every package
    run = api("ari").post("/api/briefs/spring-api/runs")
    assert run.status_code == 202, run.json()
    (record,) = api("ari").get("/api/briefs/spring-api/runs").json()
    assert record["status"] == "finished"
    assert record["summary"]["packages"] == 36
    detail = api("ari").get("/api/briefs/spring-api").json()
    assert (detail["state"], detail["approved_version"], detail["packages"]) == ("approved", 1, 36)
    assert len(detail["products"]) == 6
    assert [b["slug"] for b in api("ari").get("/api/briefs").json()] == ["spring-api"]


def test_a_run_is_refused_while_one_is_in_progress_and_a_dead_one_reads_interrupted(
    api, approved_spring_brief, settings
) -> None:
    from signoff.packages.models import Run
    from signoff.packages.runlock import run_lock
    from signoff.packages.services import run_brief

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    slug = approved_spring_brief.slug
    run_brief(approved_spring_brief)
    run = Run.objects.get()
    Run.objects.filter(pk=run.pk).update(status="running", finished_at=None)
    with run_lock(approved_spring_brief):  # its worker is alive
        error = api_error(api("ari").post(f"/api/briefs/{slug}/runs"), 409, "run_in_progress")
        assert f"(run {run.pk}, started 0 min ago)" in error["message"]
        (live,) = api("ari").get(f"/api/briefs/{slug}/runs").json()
        assert live["status"] == "running"
    (dead,) = api("ari").get(f"/api/briefs/{slug}/runs").json()
    assert dead["status"] == "interrupted"
    assert Run.objects.count() == 1  # the refused request queued nothing


def test_g1_by_whoever_added_the_brief_is_maker_checker(
    api, lumen_workspace, example_dir: Path
) -> None:
    assert api("maya").post("/api/briefs", _brief_body(example_dir)).status_code == 201

    api_error(api("maya").post("/api/briefs/spring-api/approve"), 403, "maker_checker")


def test_bad_brief_body_is_422_with_field_paths(api, lumen_workspace, example_dir: Path) -> None:
    body = _brief_body(example_dir)
    del body["name"]
    body["products"][0]["price"]["amount"] = -1
    body["variants"] = 0

    response = api("ari").post("/api/briefs", body)

    error = api_error(response, 422, "invalid_input")
    fields = {p["field"]: p["message"] for p in error["problems"]}
    assert fields["name"] == "this field is required"
    assert "products.0.price.amount" in fields
    assert "variants" in fields


def test_brief_problems_found_by_intake_are_located_too(
    api, lumen_workspace, example_dir: Path
) -> None:
    body = _brief_body(example_dir)
    body["channels"][1] = "fax"
    body["products"][0]["claims"] = ["cures-insomnia"]
    body["products_csv"] = "sku,name,claims\nLUM-SPR-LAV-08,Lavender Fields Candle,miracle\n"

    response = api("ari").post("/api/briefs", body)

    error = api_error(response, 422, "invalid_input")
    problems = {p["field"]: p for p in error["problems"]}
    assert set(problems) == {"channels.1", "products.0.claims.0", "products_csv.claims"}
    assert problems["products_csv.claims"]["line"] == 2
    assert "unknown channel 'fax'" in problems["channels.1"]["message"]
    assert api("ari").get("/api/briefs").json() == []


def test_a_brief_for_another_workspace_is_refused(
    api, lumen_workspace, other_workspace, example_dir: Path
) -> None:
    body = {**_brief_body(example_dir), "workspace": "other-brand"}

    error = api_error(api("ari").post("/api/briefs", body), 422, "invalid_input")

    assert error["problems"][0]["field"] == "workspace"


def test_a_change_after_g1_says_which_packages_it_touches(
    api, spring_run, example_dir: Path
) -> None:
    body = _brief_body(example_dir)
    body["brief"] = BRIEF
    body["products_csv"] = (example_dir / "products.csv").read_text()
    body["products"][0]["attributes"]["color"] = "lilac"
    body["products_csv"] = body["products_csv"].replace(",sage,", ",lilac,")

    response = api("maya").post(f"/api/briefs/{BRIEF}/update", body)

    assert response.status_code == 200, response.json()
    touched = response.json()["touched"]
    # the reference with a file path cannot be sent, so the brief's references changed too
    assert len(touched) == 36
    lavender = [t for t in touched if t["sku"] == "LUM-SPR-LAV-08"]
    # the colour is a reason only where the channel uses it (the detail pages need every
    # attribute the SKUs share) or the copy states the old one
    for t in lavender:
        if t["channel"] in ("amazon_us_pdp", "walmart_us", "target_plus"):
            assert any("color" in r for r in t["reasons"]), t
        else:
            assert not any("color" in r for r in t["reasons"]) or any(
                "states 'sage'" in r for r in t["reasons"]
            ), t
    assert api("maya").get(f"/api/briefs/{BRIEF}").json()["state"] == "in_review"


def test_blocking_and_sla(api, spring_run) -> None:
    report = api("ari").get(f"/api/briefs/{BRIEF}/blocking").json()

    assert report["packages"] == 36
    assert [m["sku"] for m in report["missing_data"]] == ["LUM-SPR-RHB-08"]
    assert {w["gate"] for w in report["waiting_on_gate"]} == {"G2"}
    assert api("ari").get(f"/api/briefs/{BRIEF}/sla").json() == []


def test_launch_before_the_last_gate_is_409(api, spring_run) -> None:
    response = api("lena").post(f"/api/briefs/{BRIEF}/launch", {"channel": "amazon_us_pdp"})

    error = api_error(response, 409, "invalid_state")
    assert "cannot launch" in error["message"]


def test_claim_withdrawal_blocks_its_packages(api, spring_run) -> None:
    api_error(
        api("omar").post("/api/claims/clean-burning/status", {"status": "withdrawn"}),
        422,
        "invalid_input",
    )

    response = api("omar").post(
        "/api/claims/hand-poured/status", {"status": "withdrawn", "note": "supplier changed"}
    )

    assert response.status_code == 200, response.json()
    change = response.json()
    assert (change["before"], change["after"]) == ("approved", "withdrawn")
    assert change["blocked"]
    package = api("omar").get(f"/api/packages/{change['blocked'][0]}").json()
    assert package["state"] == "blocked"
    assert package["blocked_reasons"][0]["claim"] == "hand-poured"


def test_blocking_names_the_withdrawn_claim_and_who_releases_it(api, spring_run) -> None:
    api("omar").post("/api/claims/hand-poured/status", {"status": "withdrawn", "note": "x"})

    report = api("ari").get(f"/api/briefs/{BRIEF}/blocking").json()

    (group,) = report["other_blocks"]
    assert group["claim"] == "hand-poured"
    assert group["released_by"] == [{"role": "compliance", "people": ["omar@lumen.example"]}]


def test_the_version_diff_names_claims_an_edit_dropped_and_added(api, spring_run) -> None:
    from signoff.packages.models import Package

    package = Package.objects.get(sku="LUM-SPR-LAV-08", channel="google_merchant")
    text = package.current_version.fields["description"]
    assert ", hand-poured in Vermont" in text
    changed = text.replace(", hand-poured in Vermont", "") + " A clean burning candle."
    edited = api("ari").post(
        f"/api/packages/{package.pk}/edit", {"changes": {"description": changed}}
    )
    assert edited.status_code == 200, edited.json()

    versions = api("maya").get(f"/api/packages/{package.pk}/versions").json()

    claims = [line for line in versions[1]["changes"] if line.startswith("claim")]
    assert claims == [
        "claim removed: 'hand-poured' (\"hand-poured in Vermont\")",
        "claim added: 'clean-burning' (\"clean burning\")",
    ]
    assert versions[1]["changes"] == edited.json()["changes"]


def test_the_version_history_reads_in_the_same_queries_at_any_length(api, spring_run) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from signoff.packages.models import Package

    package = Package.objects.get(sku="LUM-SPR-LAV-08", channel="meta_feed_ad")
    url = f"/api/packages/{package.pk}/versions"
    maya = api("maya")
    counts = []
    for headline in ("Calm evenings", "Quiet evenings", "Slow evenings"):
        edited = api("ari").post(
            f"/api/packages/{package.pk}/edit", {"changes": {"headline": headline}}
        )
        assert edited.status_code == 200, edited.json()
        with CaptureQueriesContext(connection) as queries:
            history = maya.get(url).json()
        counts.append(len(queries))
        assert all(v["changes"] for v in history[1:])
    assert len(history) == 4
    assert counts[0] == counts[-1], counts


# ---- board ----------------------------------------------------------------------------------


def test_board_pages_and_filters(api, spring_run) -> None:
    first = api("maya").get(f"/api/briefs/{BRIEF}/board", limit=10).json()
    last = api("maya").get(f"/api/briefs/{BRIEF}/board", limit=10, offset=30).json()

    assert (first["count"], len(first["items"]), len(last["items"])) == (36, 10, 6)
    assert first["items"][-1]["id"] < last["items"][0]["id"]
    blocked = _rows(api, state="blocked")
    assert {r["sku"] for r in blocked} == {"LUM-SPR-RHB-08"}
    assert all(r["blocking_reason"].startswith("missing") for r in blocked)
    amazon = _rows(api, channel="amazon_us_pdp")
    assert len(amazon) == 6


def test_board_filter_values_are_checked(api, spring_run) -> None:
    response = api("maya").get(f"/api/briefs/{BRIEF}/board", severity="fatal", limit=0)

    error = api_error(response, 422, "invalid_input")
    assert {p["field"] for p in error["problems"]} == {"severity", "limit"}


def test_board_query_count_does_not_grow_with_the_page(api, approved_spring_brief) -> None:
    from signoff.packages.services import run_brief

    maya = api("maya")
    maya.get("/api/me")  # the token is issued outside the measured requests

    def queries(limit: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = maya.get(f"/api/briefs/{BRIEF}/board", limit=limit)
        assert response.status_code == 200
        return len(captured)

    empty = queries(500)
    run_brief(approved_spring_brief)
    one, full = queries(1), queries(500)

    assert empty == one == full
    assert full <= 5  # token lookup and its last-used stamp, the brief, the count, the page


# ---- audit and OpenAPI ----------------------------------------------------------------------


def test_audit_log_and_verify(api, spring_run) -> None:
    package = _waiting_on_g2(api)[0]["id"]
    api("maya").post(f"/api/packages/{package}/approve")

    events = api("omar").get("/api/audit/log", package=package, limit=5).json()
    verified = api("omar").get("/api/audit/verify").json()

    assert events[0]["action"] == "package.gate.approved"
    assert events[0]["actor"] == "maya@lumen.example"
    assert all(e["subject_id"] == str(package) for e in events)
    assert verified["ok"] is True
    assert verified["count"] >= len(events)
    api_error(
        api("omar").get("/api/audit/who-approved", sku="LUM-SPR-RHB-08", channel="walmart_us"),
        404,
        "not_found",
    )


def test_openapi_lists_every_path(client: Client) -> None:
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert {
        "/api/me",
        "/api/briefs",
        "/api/briefs/{slug}",
        "/api/briefs/{slug}/diff",
        "/api/briefs/{slug}/approve",
        "/api/briefs/{slug}/update",
        "/api/briefs/{slug}/runs",
        "/api/briefs/{slug}/board",
        "/api/briefs/{slug}/blocking",
        "/api/briefs/{slug}/sla",
        "/api/briefs/{slug}/launch",
        "/api/packages/{package_id}",
        "/api/packages/{package_id}/versions",
        "/api/packages/{package_id}/findings",
        "/api/packages/{package_id}/review",
        "/api/packages/{package_id}/approve",
        "/api/packages/{package_id}/reject",
        "/api/packages/{package_id}/edit",
        "/api/packages/batch",
        "/api/claims/{claim_id}/status",
        "/api/audit/who-approved",
        "/api/audit/log",
        "/api/audit/verify",
    } <= set(schema["paths"])
    approve = schema["paths"]["/api/packages/{package_id}/approve"]["post"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(approve["responses"])
    assert approve["security"] == [{"TokenAuth": []}]


def test_docs_page_renders(client: Client) -> None:
    response = client.get("/api/docs")

    assert response.status_code == 200
    assert b"openapi.json" in response.content
    # served from our own static files, so the Content-Security-Policy lets it run
    assert b"swagger-ui-bundle.js" in response.content
    assert b"cdn." not in response.content


def test_unknown_paths_and_ids_answer_with_the_envelope(api, lumen_workspace) -> None:
    maya = api("maya")

    api_error(maya.get("/api/packages/999999"), 404, "not_found")
    api_error(maya.get("/api/packages/-1"), 422, "invalid_input")
    api_error(maya.get("/api/no-such-thing/here"), 404, "not_found")
    error = api_error(maya.get("/api/packages/twelve"), 422, "invalid_input")
    assert error["problems"][0]["field"] == "package_id"


def test_bearer_requests_need_no_csrf_token(lumen_workspace) -> None:
    from signoff.workspaces.tokens import issue_token

    client = Client(enforce_csrf_checks=True)
    token = issue_token(email="maya@lumen.example", workspace="lumen-home")

    response = client.post(
        "/api/packages/batch",
        {"action": "review", "ids": [1]},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 200


def test_a_body_that_is_not_json_is_400(client: Client, api) -> None:
    response = client.post(
        "/api/packages/batch",
        "{not json",
        content_type="application/json",
        headers=api("maya").headers,
    )

    api_error(response, 400, "bad_request")
