"""The REST API does what the screens do: fixes, compare and ratings, dashboards, review links,
data requests, the enricher's proposals, kickoff notes, memory, and the board's filters."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_helpers import api_error
from fixable import fixable_finding

from signoff.audit.models import Event
from signoff.briefs.models import BriefVersion
from signoff.packages.decisions import reject_package
from signoff.packages.models import Finding, Note, Package
from signoff.sharing.models import ReviewLink
from signoff.workspaces.models import Person, Workspace

BRIEF = "spring-candles-2027"
NOTES = Path(__file__).resolve().parents[1] / "src" / "signoff" / "demo" / "lumen-home"


def _fields(error: dict) -> list[str | None]:
    return [p["field"] for p in error["problems"]]


@pytest.fixture
def root(lumen_workspace) -> Person:
    return Person.objects.create(
        workspace=lumen_workspace, email="root@lumen.example", name="Root", roles=["admin"]
    )


# ---- suggested fixes ------------------------------------------------------------------------


@pytest.mark.django_db
def test_applying_a_suggested_fix_is_the_checkers_version_accepted_by_that_person(
    api, spring_run, person
) -> None:
    finding = fixable_finding(person)
    package = finding.version.package

    response = api("maya").post(f"/api/packages/{package.pk}/findings/{finding.pk}/apply")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["result"]["ok"], body["result"]["outcome"]) == (True, "edited")
    assert body["changes"]
    package.refresh_from_db()
    version = package.current_version
    # the default policy: the checker's wording, recorded as accepted by Maya
    assert (version.number, version.author) == (3, f"agent:{finding.agent}")
    assert version.origin["accepted_by"] == "maya@lumen.example"
    assert "Cheap" not in version.fields["title"]
    event = Event.objects.filter(action="package.edited", subject_id=str(package.pk)).last()
    assert event.actor == "maya@lumen.example"
    # the finding belonged to version 2: it is gone from the current version
    again = api("maya").post(f"/api/packages/{package.pk}/findings/{finding.pk}/apply")
    api_error(again, 404, "not_found")


@pytest.mark.django_db
def test_apply_fix_refusals(api, spring_run, other_workspace, person) -> None:
    finding = fixable_finding(person)
    package = finding.version.package
    url = f"/api/packages/{package.pk}/findings/{finding.pk}/apply"

    api_error(api("sofia").post(url), 403, "wrong_role")  # the CMO does not work on e-commerce
    api_error(api("maya", "other-brand").post(url), 404, "not_found")
    other = Package.objects.exclude(pk=package.pk).filter(current_version__isnull=False).first()
    api_error(
        api("ari").post(f"/api/packages/{other.pk}/findings/{finding.pk}/apply"), 404, "not_found"
    )
    Finding.objects.filter(pk=finding.pk).update(suggested_fix="")  # a finding with no fix
    error = api_error(api("maya").post(url), 422, "invalid_input")
    assert _fields(error) == ["finding_id"]
    assert Package.objects.get(pk=package.pk).current_version.number == 2


# ---- compare and ratings --------------------------------------------------------------------


@pytest.mark.django_db
def test_compare_then_rate_into_memory(api, spring_run, person) -> None:
    finding = fixable_finding(person)
    package = finding.version.package
    api("maya").post(f"/api/packages/{package.pk}/findings/{finding.pk}/apply")

    compared = api("maya").get(f"/api/packages/{package.pk}/compare")

    assert compared.status_code == 200, compared.json()
    body = compared.json()
    assert [(c["version"], c["current"], c["base"]) for c in body["candidates"]] == [
        (3, True, True),
        (2, False, True),
    ]
    assert body["differs"]
    assert "on brand" in body["tags"]

    rated = api("lena").post(
        f"/api/packages/{package.pk}/versions/2/ratings",
        {"rating": 4, "tags": ["great headline", "on brand"], "text": "warmer"},
    )

    assert rated.status_code == 201, rated.json()
    note = Note.objects.get(pk=rated.json()["id"])
    assert note.text == "rating 4/5; tags: on brand, great headline; warmer"
    assert (note.person, note.version.number, rated.json()["version"]) == (
        "lena@lumen.example",
        2,
        2,
    )
    assert Event.objects.filter(action="package.commented", data__note=note.pk).exists()
    again = api("maya").get(f"/api/packages/{package.pk}/compare", versions=2).json()
    assert [r["id"] for r in again["candidates"][1]["ratings"]] == [note.pk]
    found = api("ari").get("/api/memory/search", q="great headline").json()
    assert [(n["source"], n["id"], n["version"]) for n in found] == [("note", note.pk, None)]


@pytest.mark.django_db
def test_rating_refusals(api, spring_run, other_workspace) -> None:
    package = Package.objects.filter(current_version__isnull=False).order_by("id").first()
    url = f"/api/packages/{package.pk}/versions/1/ratings"

    error = api_error(api("maya").post(url, {"rating": 6, "tags": ["shiny"]}), 422, "invalid_input")
    assert set(_fields(error)) == {"rating", "tags.0"}
    api_error(
        api("maya").post(f"/api/packages/{package.pk}/versions/9/ratings", {"rating": 3}),
        404,
        "not_found",
    )
    api_error(api("maya", "other-brand").post(url, {"rating": 3}), 404, "not_found")
    api_error(
        api("maya").get(f"/api/packages/{package.pk}/compare", others=999_999), 404, "not_found"
    )
    assert not Note.objects.filter(kind="comment").exists()


# ---- dashboards -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_dashboard_layout_is_saved(api, lumen_workspace) -> None:
    maya = api("maya")
    start = maya.get("/api/dashboard/layout").json()
    assert [w["name"] for w in start["widgets"]] == [
        "my_queue",
        "sla_breaches",
        "pipeline",
        "recent_decisions",
    ]
    assert "blocked" in [w["name"] for w in start["addable"]]

    maya.post("/api/dashboard/layout", {"action": "add", "widget": "blocked"})
    moved = maya.post("/api/dashboard/layout", {"action": "up", "widget": "blocked"})
    maya.post("/api/dashboard/layout", {"action": "remove", "widget": "my_queue"})

    assert moved.status_code == 200, moved.json()
    names = [w["name"] for w in maya.get("/api/dashboard/layout").json()["widgets"]]
    assert names == ["sla_breaches", "pipeline", "blocked", "recent_decisions"]
    # another person's dashboard is their own
    assert [w["name"] for w in api("omar").get("/api/dashboard/layout").json()["widgets"]] == [
        "my_queue",
        "blocked",
        "recent_decisions",
    ]
    error = api_error(
        maya.post("/api/dashboard/layout", {"action": "add", "widget": "weather"}),
        422,
        "invalid_input",
    )
    assert _fields(error) == ["widget"]
    assert "my_queue" in error["message"]
    api_error(maya.post("/api/dashboard/layout", {"action": "shuffle"}), 422, "invalid_input")
    reset = maya.post("/api/dashboard/layout", {"action": "reset"}).json()
    assert [w["name"] for w in reset["widgets"]] == [w["name"] for w in start["widgets"]]


@pytest.mark.django_db
def test_the_dashboard_answers_each_widget_with_the_screens_data(api, spring_run, person) -> None:
    from signoff.web import dashboards

    maya = person("maya")
    package = Package.objects.filter(stage="S3", state="in_review").order_by("id").first()
    reject_package(package_id=package.pk, person=maya, note="warmer, please")
    api("maya").post("/api/dashboard/layout", {"action": "add", "widget": "blocked"})

    response = api("maya").get("/api/dashboard")

    assert response.status_code == 200, response.json()
    body = response.json()
    widgets = {w["name"]: w for w in body["widgets"]}
    assert list(widgets) == dashboards.layout_for(maya)
    assert widgets["my_queue"]["title"] == "My queue"
    assert "gate_throughput" in [w["name"] for w in body["addable"]]
    workspace = maya.workspace
    # the same builders as the screen: plain data as it is, objects by their keys
    assert widgets["pipeline"]["data"] == dashboards.pipeline(maya, workspace)
    queue = dashboards.my_queue(maya, workspace)
    assert widgets["my_queue"]["data"]["total"] == queue["total"] > 0
    assert [r["package"]["id"] for r in widgets["my_queue"]["data"]["rows"]] == [
        r["package"].pk for r in queue["rows"]
    ]
    row = widgets["my_queue"]["data"]["rows"][0]
    assert row["package"]["brief"] == BRIEF
    assert (row["gate"]["id"], row["gate"]["role"]) == ("G2", "content_lead")
    blocked = dashboards.blocked(maya, workspace)
    assert widgets["blocked"]["data"]["causes"] == [
        {"cause": cause, "packages": n} for cause, n in blocked["causes"]
    ]
    assert widgets["blocked"]["data"]["rows"][0]["reason"].startswith("missing")
    decision, *earlier = widgets["recent_decisions"]["data"]["rows"]  # newest first
    assert (decision["approved"], decision["who"], decision["package_id"]) == (
        False,
        "Maya Chen",
        package.pk,
    )
    assert decision["event"]["note"] == "warmer, please"
    assert earlier[-1]["brief"] == {"slug": BRIEF, "name": "Spring Candles 2027 launch"}  # G1


# ---- review links ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_review_links_are_created_listed_and_revoked(api, client, spring_run) -> None:
    ids = list(Package.objects.order_by("id").values_list("pk", flat=True)[:2])

    created = api("maya").post(
        "/api/review-links", {"packages": ids, "days": 3, "note": "thoughts?"}
    )

    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["link"]["packages"] == 2
    assert body["link"]["status"] == "active"
    assert body["url"].endswith(f"/review/{body['token']}/")
    link = ReviewLink.objects.get(pk=body["link"]["id"])
    assert link.token_hash != body["token"]  # only its hash is kept
    assert client.get(body["url"]).status_code == 200  # the guest's page, on the web
    listed = api("omar").get("/api/review-links").json()
    assert [(r["id"], r["note"]) for r in listed] == [(link.pk, "thoughts?")]

    revoked = api("maya").post(f"/api/review-links/{link.pk}/revoke")

    assert revoked.status_code == 200, revoked.json()
    assert (revoked.json()["status"], revoked.json()["revoked_by"]) == (
        "revoked",
        "maya@lumen.example",
    )
    assert client.get(body["url"]).status_code == 410
    actions = list(
        Event.objects.filter(subject_type="review_link")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert (actions[0], actions[-1]) == ("link.created", "link.revoked")


@pytest.mark.django_db
def test_a_review_link_for_a_channel_of_a_brief(api, spring_run) -> None:
    created = api("maya").post("/api/review-links", {"brief": BRIEF, "channel": "meta_feed_ad"})

    assert created.status_code == 201, created.json()
    link = created.json()["link"]
    assert link["packages"] == 6
    assert link["scope"] == {"kind": "channel", "brief": BRIEF, "channel": "meta_feed_ad"}


@pytest.mark.django_db
def test_review_link_refusals(api, spring_run, other_workspace) -> None:
    (package,) = Package.objects.order_by("id").values_list("pk", flat=True)[:1]

    api_error(api("ari").post("/api/review-links", {"packages": [package]}), 403, "wrong_role")
    error = api_error(api("maya").post("/api/review-links", {}), 422, "invalid_input")
    assert _fields(error) == ["packages"]
    api_error(
        api("maya").post("/api/review-links", {"packages": [package], "days": 31}),
        422,
        "invalid_input",
    )
    api_error(
        api("maya", "other-brand").post("/api/review-links", {"packages": [package]}),
        404,
        "not_found",
    )
    api_error(
        api("maya").post("/api/review-links", {"brief": BRIEF, "channel": "fax"}), 404, "not_found"
    )
    link_id = api("maya").post("/api/review-links", {"packages": [package]}).json()["link"]["id"]
    api_error(api("ari").post(f"/api/review-links/{link_id}/revoke"), 403, "wrong_role")
    api_error(
        api("maya", "other-brand").post(f"/api/review-links/{link_id}/revoke"), 404, "not_found"
    )
    assert api("maya", "other-brand").get("/api/review-links").json() == []
    assert ReviewLink.objects.get(pk=link_id).revoked_at is None


# ---- data requests --------------------------------------------------------------------------


@pytest.mark.django_db
def test_request_missing_data_from_an_operator(api, spring_run, root) -> None:
    page = api("maya").get(f"/api/briefs/{BRIEF}/data-requests").json()
    (row,) = page["rows"]
    assert row["sku"] == "LUM-SPR-RHB-08"
    fact = row["facts"][0]["fact"]
    assert page["operators"] == ["ari@lumen.example"]
    assert page["may_request"] is True
    url = f"/api/briefs/{BRIEF}/data-requests"

    response = api("maya").post(
        url, {"sku": row["sku"], "fact": fact, "operator": "ari@lumen.example"}
    )

    assert response.status_code == 201, response.json()
    assert response.json()["text"] == f"data request to ari@lumen.example: LUM-SPR-RHB-08 {fact}"
    event = Event.objects.get(action="brief.data_requested")
    assert (event.actor, event.data["fact"]) == ("maya@lumen.example", fact)
    again = api("ari").get(url).json()
    assert [r["id"] for r in again["rows"][0]["requests"]] == [response.json()["id"]]

    wrong = {"sku": row["sku"], "fact": fact, "operator": "lena@lumen.example"}
    assert _fields(api_error(api("maya").post(url, wrong), 422, "invalid_input")) == ["operator"]
    unknown = {"sku": row["sku"], "fact": "colour", "operator": "ari@lumen.example"}
    assert _fields(api_error(api("maya").post(url, unknown), 422, "invalid_input")) == ["fact"]
    complete = {"sku": "LUM-SPR-LAV-08", "fact": fact, "operator": "ari@lumen.example"}
    assert _fields(api_error(api("maya").post(url, complete), 422, "invalid_input")) == ["sku"]
    api_error(api("root").post(url, {**wrong, "operator": "ari@lumen.example"}), 403, "wrong_role")
    assert api("root").get(url).json()["may_request"] is False
    assert Event.objects.filter(action="brief.data_requested").count() == 1


# ---- the enricher's proposals ---------------------------------------------------------------


@pytest.mark.django_db
def test_accept_and_edit_proposals_into_a_new_brief_version(api, spring_brief) -> None:
    proposals = api("ari").get(f"/api/briefs/{BRIEF}/proposals").json()
    assert proposals
    message = next(p for p in proposals if p["kind"] == "key_message")
    other = next(p for p in proposals if p["id"] != message["id"])

    response = api("ari").post(
        f"/api/briefs/{BRIEF}/proposals/accept",
        {"proposals": [other["id"]], "edits": {message["id"]: "Calm, plain, no hype."}},
    )

    assert response.status_code == 201, response.json()
    assert (response.json()["version"], response.json()["added_by"]) == (2, "ari@lumen.example")
    version = BriefVersion.objects.get(brief=spring_brief, number=2)
    channel = message["target"].split(".", 1)[1]
    assert "Calm, plain, no hype." in version.data["channel_messages"][channel]
    assert api("ari").get(f"/api/briefs/{BRIEF}").json()["latest_version"] == 2


@pytest.mark.django_db
def test_proposal_refusals(api, spring_brief, person) -> None:
    from signoff.briefs.approval import approve_brief

    url = f"/api/briefs/{BRIEF}/proposals/accept"
    first = api("ari").get(f"/api/briefs/{BRIEF}/proposals").json()[0]["id"]

    error = api_error(api("ari").post(url, {"proposals": ["nope"]}), 422, "invalid_input")
    assert _fields(error) == ["proposals"]
    api_error(api("ari").post(url, {}), 422, "invalid_input")
    api_error(api("sofia").post(url, {"proposals": [first]}), 403, "wrong_role")
    approve_brief(brief=spring_brief, person=person("maya"))
    api_error(api("ari").post(url, {"proposals": [first]}), 409, "invalid_state")
    assert BriefVersion.objects.filter(brief=spring_brief).count() == 1


# ---- kickoff notes --------------------------------------------------------------------------


@pytest.mark.django_db
def test_kickoff_notes_become_a_brief_draft_with_open_questions(api, root, lumen_workspace) -> None:
    notes = (NOTES / "kickoff-notes.txt").read_text(encoding="utf-8")

    response = api("ari").post("/api/briefs/parse-notes", {"notes": notes})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["brief"]["workspace"] == "lumen-home"
    assert "amazon_us_pdp" in body["brief"]["channels"]
    assert body["yaml"].startswith("brief:")
    assert isinstance(body["open_questions"], list)
    assert body["mentioned_products"]
    assert not BriefVersion.objects.exists()  # nothing stored
    api_error(api("root").post("/api/briefs/parse-notes", {"notes": notes}), 403, "wrong_role")
    error = api_error(
        api("ari").post("/api/briefs/parse-notes", {"notes": ""}), 422, "invalid_input"
    )
    assert _fields(error) == ["notes"]


# ---- memory ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_memory_search_suggestions_and_banning_a_phrase(api, spring_run, person) -> None:
    waiting = Package.objects.filter(stage="S3", state="in_review").order_by("id")[:3]
    for package in waiting:
        result = reject_package(
            package_id=package.pk, person=person("maya"), note='Drop "cosy glow", say warm light'
        )
        assert result.ok, result.message

    found = api("ari").get("/api/memory/search", q="cosy glow").json()
    assert {n["package"] for n in found} == {p.pk for p in waiting}
    assert {(n["source"], n["kind"]) for n in found} == {("note", "rejection")}
    suggestions = api("ari").get("/api/memory/suggestions").json()
    assert [(s["phrase"], len(s["packages"])) for s in suggestions] == [("cosy glow", 3)]

    api_error(
        api("ari").post("/api/memory/banned-phrases", {"phrase": "cosy glow"}), 403, "wrong_role"
    )
    banned = api("lena").post(
        "/api/memory/banned-phrases", {"phrase": "cosy glow", "suggest": "warm light"}
    )

    assert banned.status_code == 201, banned.json()
    assert banned.json()["accepted_by"] == "lena@lumen.example"
    workspace = Workspace.objects.get(slug="lumen-home")
    assert workspace.learned_rules["banned"][0]["phrase"] == "cosy glow"
    assert api("ari").get("/api/memory/suggestions").json() == []
    again = api_error(
        api("maya").post("/api/memory/banned-phrases", {"phrase": "Cosy Glow"}),
        422,
        "invalid_input",
    )
    assert _fields(again) == ["phrase"]
    assert Event.objects.filter(action="workspace.rule_learned").count() == 1


@pytest.mark.django_db
def test_memory_search_needs_words_and_stays_in_the_workspace(
    api, spring_run, other_workspace
) -> None:
    error = api_error(api("ari").get("/api/memory/search"), 422, "invalid_input")
    assert _fields(error) == ["q"]
    api("ari").post(
        f"/api/packages/{Package.objects.order_by('id').first().pk}/comments",
        {"text": "lavender smells lovely"},
    )
    assert len(api("ari").get("/api/memory/search", q="lavender lovely").json()) == 1
    # the copy of every version is memory too; ``source`` narrows the search
    copy = api("ari").get("/api/memory/search", q="lavender", source="version", limit=100)
    assert copy.status_code == 200, copy.json()
    assert copy.json()
    assert {(h["source"], h["brief"]) for h in copy.json()} == {("version", BRIEF)}
    assert all(h["version"] for h in copy.json())
    bad = api_error(
        api("ari").get("/api/memory/search", q="x", source="files"), 422, "invalid_input"
    )
    assert _fields(bad) == ["source.0"]
    assert api("ari", "other-brand").get("/api/memory/search", q="lavender").json() == []


# ---- board filters --------------------------------------------------------------------------


def _board(api, name: str = "maya", **filters) -> dict:
    response = api(name).get(f"/api/briefs/{BRIEF}/board", limit=500, **filters)
    assert response.status_code == 200, response.json()
    return response.json()


@pytest.mark.django_db
def test_board_filters_by_gate_owner_and_mine(api, spring_run, person) -> None:
    from signoff.packages.decisions import approve_package

    waiting = Package.objects.filter(stage="S3", state="in_review").order_by("id")
    first = waiting.first()
    assert approve_package(package_id=first.pk, person=person("maya")).ok  # now waits on G3

    g2 = _board(api, gate="G2")
    g3 = _board(api, gate="G3")
    assert g2["count"] == waiting.count()
    assert {r["gate"] for r in g2["items"]} == {"G2"}
    assert [r["id"] for r in g3["items"]] == [first.pk]
    assert _board(api, gate="G9")["count"] == 0
    # mine: what waits on a gate my roles own
    assert _board(api, "maya", mine=True)["count"] == g2["count"]
    assert [r["id"] for r in _board(api, "omar", mine=True)["items"]] == [first.pk]
    assert _board(api, "ari", mine=True)["count"] == 0
    # owner
    owner = first.owner
    owned = _board(api, owner=owner)
    assert owned["count"] == Package.objects.filter(owner=owner).count()
    assert _board(api, owner="nobody@lumen.example")["count"] == 0
    blocked = _board(api, state="blocked")
    assert {r["gate"] for r in blocked["items"]} == {""}


@pytest.mark.django_db
def test_compare_parameters_are_checked_at_their_names(api, spring_run) -> None:
    package = Package.objects.filter(current_version__isnull=False).order_by("id").first()
    url = f"/api/packages/{package.pk}/compare"

    error = api_error(api("maya").get(url, others="a"), 422, "invalid_input")
    assert _fields(error) == ["others.0"]
    error = api_error(api("maya").get(url, versions=[1, 2, 3, 4]), 422, "invalid_input")
    assert _fields(error) == ["versions"]
