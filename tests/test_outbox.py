"""Delivery through the outbox: destinations in the workspace file, the rows a launch writes,
the webhook and folder connectors, retries, takedowns, and the CLI, API and matrix views."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from api_helpers import api_error
from django.db.models import Q
from django.urls import reverse
from fakes.receiver import FakeReceiver
from image_helpers import give_images

from signoff.audit.models import Event
from signoff.core.errors import InputError
from signoff.delivery.models import Launch
from signoff.outbox.models import Attempt, Delivery
from signoff.outbox.sending import claim, prepare, send
from signoff.outbox.services import retry_deliveries
from signoff.outbox.worker import work
from signoff.packages.authoring import edit_package
from signoff.packages.decisions import approve_package
from signoff.packages.models import Package
from signoff.workspaces.services import load_workspace

CHANNEL = "meta_feed_ad"
SECRET = "test-secret"
HOOK_ENV = "CATALOG_HOOK_SECRET"
BRIEF = "spring-candles-2027"


def with_destinations(example_dir: Path, entries: str) -> Path:
    """Add a ``destinations:`` block to the example workspace file; return the file."""
    path = example_dir / "workspace.yaml"
    path.write_text(path.read_text() + "\ndestinations:\n" + entries, encoding="utf-8")
    return path


@pytest.fixture
def fast(settings):
    """Small backoffs and timeouts, so retries happen within the test."""
    settings.SIGNOFF_DELIVERY_BACKOFF_BASE = 0.01
    settings.SIGNOFF_DELIVERY_BACKOFF_CAP = 0.05
    settings.SIGNOFF_DELIVERY_TIMEOUT = 0.5
    settings.SIGNOFF_DELIVERY_POLL_SECONDS = 0.02
    settings.SIGNOFF_DELIVERY_MAX_ATTEMPTS = 4
    return settings


@pytest.fixture
def receiver():
    with FakeReceiver(failure_rate=0.0, secret=SECRET.encode()) as running:
        yield running


@pytest.fixture
def meta_ready(spring_run, spring_brief, person):
    """The spring brief's meta_feed_ad packages with images, through G2, G3 and G4."""
    packages = list(Package.objects.filter(brief=spring_brief, channel=CHANNEL).order_by("id"))
    give_images(packages)
    for package in packages[:2]:  # two of them make an approved claim (for the takedown test)
        edited, _ = edit_package(
            package_id=package.pk,
            person=person("ari"),
            changes={"link_description": "Hand-poured in Vermont"},
        )
        assert edited.ok, edited.message
    for package in packages:
        for name in ("maya", "omar", "lena"):
            result = approve_package(package_id=package.pk, person=person(name))
            assert result.ok, result.message
    return packages


@pytest.fixture
def hooked(monkeypatch, example_dir, receiver, tmp_path, meta_ready):
    """A webhook and a JSON folder destination for meta_feed_ad, loaded from the file."""
    monkeypatch.setenv(HOOK_ENV, SECRET)
    path = with_destinations(
        example_dir,
        f"  - {{name: catalog-hook, channel: {CHANNEL}, kind: webhook, url: '{receiver.url}', "
        f"secret_env: {HOOK_ENV}, image_base_url: 'https://cdn.example.com/i'}}\n"
        f"  - {{name: drop, channel: {CHANNEL}, kind: folder, path: drop, format: json}}\n",
    )
    workspace, _ = load_workspace(path)
    return workspace


def launch(spring_brief, person, tmp_path):
    from signoff.delivery.services import launch_channel

    return launch_channel(
        brief=spring_brief, channel=CHANNEL, person=person("lena"), out_dir=tmp_path / "exports"
    )


# --- the workspace file -------------------------------------------------------------------------


@pytest.mark.django_db
def test_destinations_load_with_folders_made_absolute(lumen_workspace, example_dir, monkeypatch):
    monkeypatch.setenv(HOOK_ENV, SECRET)
    path = with_destinations(
        example_dir,
        f"  - {{name: catalog-hook, channel: {CHANNEL}, kind: webhook, "
        f"url: 'https://hooks.example.com/signoff', secret_env: {HOOK_ENV}}}\n"
        "  - {name: merchant-drop, channel: google_merchant, kind: folder, path: exports/merchant,"
        " format: google_merchant_tsv}\n",
    )

    workspace, _ = load_workspace(path)

    hook, drop = workspace.destinations
    assert hook == {
        "name": "catalog-hook",
        "channel": CHANNEL,
        "kind": "webhook",
        "url": "https://hooks.example.com/signoff",
        "secret_env": HOOK_ENV,
    }
    assert SECRET not in json.dumps(workspace.destinations)  # only the variable's name
    assert drop["path"] == str((example_dir / "exports" / "merchant").resolve())
    assert Path(drop["path"]).is_dir()
    event = Event.objects.filter(action="workspace.updated").latest("seq")
    assert event.data["destinations"] == ["catalog-hook", "merchant-drop"]


BAD_DESTINATIONS = [
    # (the entry, the field the error names, words of the message)
    (
        "{name: x, channel: meta_feed_ad, kind: ftp, url: 'ftp://h/x'}",
        "destinations.0",
        "unknown destination kind 'ftp'; expected one of folder, webhook",
    ),
    (
        "{name: x, channel: meta_feed_ad, kind: webhook, url: 'https://h/x', "
        "secret_env: SIGNOFF_TEST_UNSET_SECRET}",
        "destinations.0.secret_env",
        "the environment variable SIGNOFF_TEST_UNSET_SECRET is not set",
    ),
    (
        "{name: x, channel: meta_feed_ad, kind: webhook, url: 'ftp://h/x', secret_env: HOOK}",
        "destinations.0.url",
        "'ftp://h/x' is not an http(s) URL",
    ),
    (
        "{name: x, channel: meta_feed_ad, kind: webhook, url: 'https:///nohost', secret_env: HOOK}",
        "destinations.0.url",
        "is not an http(s) URL",
    ),
    (
        "{name: x, channel: meta_feed_ad, kind: webhook, url: 'https://h/x'}",
        "destinations.0.secret_env",
        "this field is required",
    ),
    (
        "{name: x, channel: meta_feed_ad, kind: folder, path: workspace.yaml/feeds}",
        "destinations.0.path",
        "cannot be written",
    ),
    (
        "{name: x, channel: meta_feed_ad, kind: folder, path: out, format: xlsx}",
        "destinations.0.format",
        "unknown feed format 'xlsx'",
    ),
    (
        "{name: x, channel: tiktok_shop, kind: folder, path: out}",
        "destinations.0.channel",
        "channel 'tiktok_shop' is not one of the workspace's channels",
    ),
    (
        "{name: x, channel: meta_feed_ad, kind: folder, path: out, password: hunter2}",
        "destinations.0.password",
        "unknown field",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("entry", "field", "words"), BAD_DESTINATIONS)
def test_a_bad_destination_is_a_located_error_and_nothing_is_stored(
    lumen_workspace, example_dir, monkeypatch, entry, field, words
):
    monkeypatch.setenv("HOOK", "set")
    monkeypatch.delenv("SIGNOFF_TEST_UNSET_SECRET", raising=False)
    path = with_destinations(example_dir, f"  - {entry}\n")
    line = path.read_text().count("\n")  # the entry is the last line

    with pytest.raises(InputError) as refused:
        load_workspace(path)

    (problem,) = [p for p in refused.value.problems if p.field == field]
    assert words in problem.message
    assert (problem.file, problem.line) == (str(path), line)
    lumen_workspace.refresh_from_db()
    assert lumen_workspace.destinations == []


@pytest.mark.django_db
def test_two_destinations_with_one_name_are_refused(lumen_workspace, example_dir):
    path = with_destinations(
        example_dir,
        "  - {name: drop, channel: meta_feed_ad, kind: folder, path: a}\n"
        "  - {name: drop, channel: meta_feed_ad, kind: folder, path: b}\n",
    )
    with pytest.raises(InputError, match="destination name 'drop' is used twice"):
        load_workspace(path)


# --- launch ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_launch_writes_a_delivery_per_package_and_destination(
    hooked, spring_brief, person, tmp_path, meta_ready
):
    result = launch(spring_brief, person, tmp_path)

    rows = list(Delivery.objects.order_by("package_id", "destination"))
    assert [(r.package_id, r.destination) for r in rows] == [
        (p.pk, name) for p in meta_ready for name in ("catalog-hook", "drop")
    ]
    assert {r.state for r in rows} == {"pending"}
    assert len({r.idempotency_key for r in rows}) == len(rows)
    hook = rows[0]
    package = Package.objects.get(pk=hook.package_id)
    version = package.current_version
    document = hook.document
    assert document["package"] == package.pk
    assert (document["brief"], document["sku"], document["channel"]) == (
        BRIEF,
        package.sku,
        CHANNEL,
    )
    assert (document["market"], document["variant"]) == (package.market, package.variant)
    assert (document["version"], document["content_hash"]) == (version.number, version.content_hash)
    assert document["fields"] == version.fields
    assert document["manifest_hash"] == result.manifest_hash
    assert [a["gate"] for a in document["approvals"]] == ["G2", "G3", "G4"]
    assert [(i["slot"], i["sha256"], i["url"]) for i in document["images"]] == [
        (slot, entry["sha256"], f"https://cdn.example.com/i/{entry['file']}")
        for slot, entry in sorted(version.images.items())
    ]
    assert document["images"]


@pytest.mark.django_db
def test_a_destination_unusable_at_launch_refuses_it_and_nothing_is_published(
    hooked, spring_brief, person, tmp_path, monkeypatch
):
    monkeypatch.delenv(HOOK_ENV)

    with pytest.raises(InputError) as refused:
        launch(spring_brief, person, tmp_path)

    (problem,) = refused.value.problems
    assert problem.field == "destinations.0.secret_env"
    assert f"the environment variable {HOOK_ENV} is not set" in problem.message
    assert "nothing was published" in problem.message
    assert not Package.objects.filter(state="published").exists()
    assert not Launch.objects.exists()
    assert not Delivery.objects.exists()
    assert not Event.objects.filter(action__in=["channel.launched", "package.published"]).exists()
    assert not (tmp_path / "exports" / "lumen-home" / BRIEF / CHANNEL).exists()


# --- sending ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_worker_delivers_signed_documents_and_the_feed(
    hooked, spring_brief, person, tmp_path, receiver, fast
):
    launch(spring_brief, person, tmp_path)

    summary = work(wait_all=True, concurrency=4)

    rows = list(Delivery.objects.order_by("id"))
    assert {r.state for r in rows} == {"delivered"}
    hooks = [r for r in rows if r.destination == "catalog-hook"]
    assert summary.outcomes["delivered"] == len(rows)
    # each document arrived once, signed, under its key, and its receipt is kept
    assert dict(receiver.applied) == {r.idempotency_key: 1 for r in hooks}
    assert receiver.bad_signatures == 0
    for row in hooks:
        assert receiver.documents[row.idempotency_key] == row.document
        assert row.receiver_id == receiver.answers[row.idempotency_key]["id"]
    # the folder holds the feed (and the images it names), written whole
    drop = Path(hooked.destinations[1]["path"])
    feed = json.loads((drop / f"{BRIEF}-{CHANNEL}.json").read_bytes())
    assert feed["items"] if "items" in feed else feed["packages"]
    files = {i["file"] for r in hooks for i in r.document["images"]}
    assert files
    assert files <= {p.name for p in (drop / BRIEF).iterdir()}  # in the brief's own folder
    assert not [p for p in drop.rglob("*") if p.name.startswith(".")]  # no temporary left
    events = Event.objects.filter(action="delivery.delivered")
    assert events.count() == len(rows)
    assert {e.data["receiver_id"] for e in events if e.data["kind"] == "webhook"} == {
        r.receiver_id for r in hooks
    }


@pytest.mark.django_db
def test_the_signature_is_the_hmac_of_the_exact_body(hooked, spring_brief, person, tmp_path):
    launch(spring_brief, person, tmp_path)
    jobs = prepare(claim(worker="t", limit=1, where=None), worker="t")
    document = jobs[0].document
    expected = hmac.new(SECRET.encode(), document.body, hashlib.sha256).hexdigest()
    from signoff.outbox.connectors.webhook import signature

    assert signature(SECRET.encode(), document.body) == f"sha256={expected}"
    assert json.loads(document.body) == jobs[0].rows[0].document


@pytest.mark.django_db
def test_a_refusal_is_failed_with_the_receivers_words_and_not_retried(
    hooked, spring_brief, person, tmp_path, receiver, fast
):
    launch(spring_brief, person, tmp_path)
    refused = Delivery.objects.filter(destination="catalog-hook").order_by("id").first()
    receiver.refuse = frozenset({refused.idempotency_key})

    work(wait_all=True)

    refused.refresh_from_db()
    assert refused.state == "failed"
    assert refused.attempts == 1
    assert refused.last_error == "HTTP 422: gtin is not valid"
    assert receiver.seen[refused.idempotency_key] == 1
    event = Event.objects.get(action="delivery.failed")
    assert event.data["error"] == "HTTP 422: gtin is not valid"


@pytest.mark.django_db
def test_dead_after_the_last_attempt_then_a_publisher_retries_it(
    hooked, spring_brief, person, tmp_path, receiver, fast, cli, monkeypatch
):
    launch(spring_brief, person, tmp_path)
    receiver.failure_rate = 1.0
    receiver.modes = ("error",)

    work(wait_all=True, concurrency=8)

    hooks = Delivery.objects.filter(destination="catalog-hook")
    assert {(r.state, r.attempts) for r in hooks} == {("dead", 4)}
    assert all("gave up after 4 attempts" in r.last_error for r in hooks)
    assert Event.objects.filter(action="delivery.dead").count() == hooks.count()
    history = Attempt.objects.filter(delivery=hooks[0]).order_by("id")
    assert [a.outcome for a in history] == ["retry", "retry", "retry", "dead"]
    assert all(a.status in (500, 503) and a.error for a in history)

    from signoff.workspaces.tokens import issue_token

    omar = issue_token(email="omar@lumen.example", workspace="lumen-home")
    refused = cli("deliveries", "retry", "--dead", token=omar)
    assert refused.exit_code == 4
    assert "a publisher must" in refused.stderr
    lena = issue_token(email="lena@lumen.example", workspace="lumen-home")
    retried = cli("deliveries", "retry", "--dead", "--brief", BRIEF, token=lena)
    assert retried.exit_code == 0, retried.output
    assert f"Queued {hooks.count()} deliveries again" in retried.stdout
    assert {(r.state, r.attempts) for r in hooks.all()} == {("pending", 0)}
    assert Event.objects.filter(action="delivery.retried", actor="lena@lumen.example").count() == 6

    receiver.failure_rate = 0.0
    work(wait_all=True)
    assert {r.state for r in hooks.all()} == {"delivered"}
    assert set(receiver.applied.values()) == {1}


@pytest.mark.django_db
def test_a_crash_between_sending_and_recording_resends_with_the_same_key(
    hooked, spring_brief, person, tmp_path, receiver, fast
):
    launch(spring_brief, person, tmp_path)
    # A worker claims and sends, then dies before recording: its lease is left to run out.
    rows = claim(worker="doomed", limit=100, where=None)
    for job in prepare(rows, worker="doomed"):
        assert send(job).ok
    Delivery.objects.update(lease_until=None)  # the lease ran out

    work(wait_all=True, name="next")

    hooks = Delivery.objects.filter(destination="catalog-hook")
    assert {r.state for r in hooks} == {"delivered"}
    assert all(receiver.seen[r.idempotency_key] == 2 for r in hooks)  # sent twice ...
    assert set(receiver.applied.values()) == {1}  # ... taken once
    for row in hooks:
        assert row.receiver_id == receiver.answers[row.idempotency_key]["id"]
        outcomes = list(row.tries.order_by("id").values_list("outcome", "worker"))
        assert outcomes == [("interrupted", "doomed"), ("delivered", "next")]


@pytest.mark.django_db
def test_a_delivery_that_keeps_stopping_its_worker_is_dead_after_the_last_attempt(
    hooked, spring_brief, person, tmp_path, receiver, fast
):
    launch(spring_brief, person, tmp_path)
    doomed = Delivery.objects.filter(destination="catalog-hook").order_by("id").first()
    for crash in range(fast.SIGNOFF_DELIVERY_MAX_ATTEMPTS):  # each claim's worker dies mid-send
        assert [r.pk for r in claim(worker=f"w{crash}", limit=1, ids=[doomed.pk])] == [doomed.pk]
        Delivery.objects.filter(pk=doomed.pk).update(lease_until=None)  # the lease ran out

    assert claim(worker="next", limit=1, ids=[doomed.pk]) == []

    doomed.refresh_from_db()
    assert doomed.state == "dead"
    assert doomed.next_attempt_at is None
    assert not doomed.lease_owner
    assert "stopped before recording an answer" in doomed.last_error
    tries = list(doomed.tries.order_by("id").values_list("outcome", "worker"))
    assert tries == [("interrupted", f"w{n}") for n in range(fast.SIGNOFF_DELIVERY_MAX_ATTEMPTS)]
    assert Event.objects.filter(action="delivery.dead", subject_id=str(doomed.pk)).count() == 1
    assert retry_deliveries(person=person("lena"), ids=[doomed.pk]) == [doomed.pk]


@pytest.mark.django_db
def test_two_workers_never_claim_the_same_delivery(hooked, spring_brief, person, tmp_path):
    launch(spring_brief, person, tmp_path)
    first = claim(worker="a", limit=5)
    second = claim(worker="b", limit=100)
    assert len(first) == 5
    assert {r.pk for r in first}.isdisjoint({r.pk for r in second})
    assert len(first) + len(second) == Delivery.objects.count()
    assert claim(worker="c", limit=100) == []


# --- takedown -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_withdrawing_a_claim_after_launch_takes_deliveries_down(
    hooked, spring_brief, person, tmp_path, receiver, fast
):
    from signoff.packages.claims import packages_using, set_claim_status

    launch(spring_brief, person, tmp_path)
    work(wait_all=True)
    claim_id = "hand-poured"  # two of the packages were edited to make it (meta_ready)
    making = {p.pk for p in packages_using(hooked, claim_id, published=True)}
    assert len(making) == 2

    change = set_claim_status(
        workspace=hooked, claim_id=claim_id, status="withdrawn", note="lab", person=person("omar")
    )

    marked = Delivery.objects.filter(state="needs_takedown")
    assert {r.package_id for r in marked} == making
    assert marked.count() == 2 * len(making)  # both destinations
    event = Event.objects.filter(action="claim.status_changed").latest("seq")
    assert sorted(event.data["takedown"]) == sorted(r.pk for r in marked)
    assert making.isdisjoint(change.blocked)  # published packages are past blocking

    work(wait_all=True)

    assert Delivery.objects.filter(state="taken_down").count() == 2 * len(making)
    takedowns = [d for d in receiver.documents.values() if d["event"] == "package.takedown"]
    assert {d["package"] for d in takedowns} == making
    assert {d["reason"] for d in takedowns} == {
        "claim 'hand-poured' is now withdrawn: it must come down"
    }
    drop = Path(hooked.destinations[1]["path"])
    feed = json.loads((drop / f"{BRIEF}-{CHANNEL}.json").read_bytes())
    left = feed["items"] if "items" in feed else feed["packages"]
    assert making.isdisjoint({i.get("package", i.get("package_id")) for i in left})


@pytest.mark.django_db
def test_a_publish_in_flight_when_its_claim_is_withdrawn_is_taken_down_after_it_lands(
    hooked, spring_brief, person, tmp_path, receiver, fast
):
    from signoff.outbox.sending import record
    from signoff.packages.claims import packages_using, set_claim_status

    fast.SIGNOFF_DELIVERY_LEASE_SECONDS = 600  # worker A's lease holds through the test
    launch(spring_brief, person, tmp_path)
    making = {p.pk for p in packages_using(hooked, "hand-poured", published=True)}
    # Worker A has claimed the webhook publishes; they wait in its pool, not yet sent.
    jobs = prepare(claim(worker="a", limit=100, where=Q(destination="catalog-hook")), worker="a")
    set_claim_status(
        workspace=hooked,
        claim_id="hand-poured",
        status="withdrawn",
        note="lab",
        person=person("omar"),
    )
    hook_rows = Delivery.objects.filter(package__in=making, destination="catalog-hook")
    assert set(hook_rows.values_list("state", flat=True)) == {"needs_takedown"}
    # A second worker cannot take the takedown ahead of the publish A still holds.
    assert claim(worker="b", limit=100, ids=list(hook_rows.values_list("pk", flat=True))) == []

    record([(job, send(job)) for job in jobs], worker="a")  # A's publishes land, then record

    assert set(hook_rows.values_list("state", flat=True)) == {"needs_takedown"}
    assert all(row.receiver_id for row in hook_rows)
    work(wait_all=True, name="b")
    assert set(hook_rows.values_list("state", flat=True)) == {"taken_down"}
    order = list(receiver.documents)
    for row in hook_rows:
        assert order.index(row.idempotency_key) < order.index(row.idempotency_key + ".takedown")
    published = Attempt.objects.filter(delivery__in=hook_rows, action="publish")
    assert set(published.values_list("outcome", flat=True)) == {"delivered"}


# --- CLI, API, screens --------------------------------------------------------------------------


@pytest.mark.django_db
def test_deliveries_through_the_cli_and_the_api(
    hooked, spring_brief, person, tmp_path, receiver, fast, cli, api, other_workspace
):
    launch(spring_brief, person, tmp_path)
    receiver.refuse = frozenset(
        Delivery.objects.filter(destination="catalog-hook")
        .order_by("id")
        .values_list("idempotency_key", flat=True)[:1]
    )
    work(wait_all=True)
    failed = Delivery.objects.get(state="failed")

    listed = cli("deliveries", BRIEF, "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert len(rows) == Delivery.objects.count()
    assert {r["state"] for r in rows} == {"delivered", "failed"}
    only = json.loads(cli("deliveries", BRIEF, "--state", "failed", "--json").stdout)
    assert [(r["id"], r["last_error"]) for r in only] == [
        (failed.pk, "HTTP 422: gtin is not valid")
    ]
    table = cli("deliveries", BRIEF)
    assert "catalog-hook (webhook)" in table.stdout
    assert "HTTP 422: gtin is not valid" in table.stdout
    assert cli("deliveries", BRIEF, "--state", "lost").exit_code == 2
    history = cli("deliveries", "list", BRIEF, "--state", "failed", "--attempts")
    assert "#1 failed" in history.stdout
    assert "1 failed" in history.stdout.splitlines()[-1]

    response = api("maya").get(f"/api/briefs/{BRIEF}/deliveries", state="failed", attempts="true")
    assert response.status_code == 200, response.json()
    (row,) = response.json()
    assert row["id"] == failed.pk
    assert row["history"][0]["error"] == "HTTP 422: gtin is not valid"
    assert row["history"][0]["status"] == 422
    api_error(api("maya", "other-brand").get(f"/api/briefs/{BRIEF}/deliveries"), 404, "not_found")
    api_error(api("maya").post("/api/deliveries/retry", {"ids": [failed.pk]}), 403, "wrong_role")
    delivered = Delivery.objects.filter(state="delivered").first()
    api_error(
        api("lena").post("/api/deliveries/retry", {"ids": [delivered.pk]}), 409, "invalid_state"
    )
    api_error(api("lena").post("/api/deliveries/retry", {}), 422, "invalid_input")
    api_error(api("lena").post("/api/deliveries/retry", {"ids": [10**9]}), 404, "not_found")

    receiver.refuse = frozenset()
    response = api("lena").post("/api/deliveries/retry", {"ids": [failed.pk]})
    assert response.status_code == 200, response.json()
    assert response.json() == {"retried": [failed.pk]}
    work(wait_all=True)
    failed.refresh_from_db()
    assert failed.state == "delivered"


@pytest.mark.django_db
def test_the_matrix_shows_each_packages_delivery_per_destination(
    hooked, spring_brief, person, tmp_path, receiver, fast, as_person
):
    launch(spring_brief, person, tmp_path)
    receiver.refuse = frozenset(
        Delivery.objects.filter(destination="catalog-hook")
        .order_by("id")
        .values_list("idempotency_key", flat=True)[:1]
    )
    work(wait_all=True)

    page = as_person("maya").get(reverse("web:matrix", kwargs={"slug": BRIEF}))

    assert page.status_code == 200
    for row in Delivery.objects.all():
        assert f'data-delivery="{row.pk}" data-state="{row.state}"' in page.text
    assert "gtin is not valid" in page.text
    assert "catalog-hook: 5 delivered, 1 failed" in page.text
    assert "drop: 6 delivered" in page.text


@pytest.mark.django_db
def test_a_feed_that_cannot_carry_a_package_fails_its_delivery_with_the_field(
    monkeypatch, example_dir, spring_brief, person, tmp_path, meta_ready, fast
):
    # The demo products have no product page URL, which Meta's catalog requires.
    path = with_destinations(
        example_dir,
        f"  - {{name: meta-drop, channel: {CHANNEL}, kind: folder, path: meta, "
        "format: meta_catalog_csv, image_base_url: 'https://cdn.example.com/i'}\n",
    )
    load_workspace(path)
    launch(spring_brief, person, tmp_path)

    work(wait_all=True)

    rows = Delivery.objects.all()
    assert {(r.state, r.attempts) for r in rows} == {("failed", 1)}
    for row in rows:  # each fact the format needs and the product data lacks, by field
        assert "product.link: Meta's catalog needs the product page's URL" in row.last_error
        assert row.last_error.startswith("product.availability: ")
    feed = (example_dir / "meta" / f"{BRIEF}-{CHANNEL}.csv").read_text(encoding="utf-8")
    assert feed.count("\n") == 1  # the header only: nothing cut to fit, nothing guessed


@pytest.mark.django_db
def test_the_launch_through_the_api_and_the_cli_names_the_unusable_destination(
    hooked, api, cli, monkeypatch, meta_ready, settings, tmp_path
):
    from signoff.workspaces.tokens import issue_token

    settings.SIGNOFF_EXPORT_DIR = tmp_path / "exports"
    monkeypatch.delenv(HOOK_ENV)

    error = api_error(
        api("lena").post(f"/api/briefs/{BRIEF}/launch", {"channel": CHANNEL}), 422, "invalid_input"
    )
    lena = issue_token(email="lena@lumen.example", workspace="lumen-home")
    refused = cli("launch", BRIEF, "--channel", CHANNEL, token=lena)

    assert [p["field"] for p in error["problems"]] == ["destinations.0.secret_env"]
    assert refused.exit_code == 2
    assert "destinations.0.secret_env: destination 'catalog-hook': the environment" in (
        refused.stderr
    )
    assert not Package.objects.filter(state="published").exists()


@pytest.mark.django_db(transaction=True)
def test_the_launch_queues_a_task_and_signoff_worker_sends_the_rest(
    spring_brief, cli, monkeypatch, fast
):
    from django_tasks_db.models import DBTaskResult
    from fakes.delivery_seed import seed_published, set_destinations

    monkeypatch.setenv(HOOK_ENV, SECRET)
    with FakeReceiver(failure_rate=0.0, secret=SECRET.encode()) as receiver:
        set_destinations(
            spring_brief,
            [
                {
                    "name": f"hook-{channel}",
                    "channel": channel,
                    "kind": "webhook",
                    "url": receiver.url,
                    "secret_env": HOOK_ENV,
                }
                for channel in (CHANNEL, "instagram_post")
            ],
        )
        queued = seed_published(spring_brief, 12)  # commits: the task is queued on commit
        assert DBTaskResult.objects.count() == 1
        lost = seed_published(spring_brief, 3, channel="instagram_post")
        DBTaskResult.objects.filter(status="READY").exclude(
            pk=DBTaskResult.objects.order_by("enqueued_at").first().pk
        ).delete()  # the second launch's task was lost: only the outbox row remains

        worked = cli("worker", "--batch")

    assert worked.exit_code == 0, worked.output
    assert Delivery.objects.filter(pk__in=queued + lost, state="delivered").count() == 15
    assert set(receiver.applied.values()) == {1}
    assert len(receiver.applied) == 15


def test_an_image_url_percent_encodes_the_file_name() -> None:
    from types import SimpleNamespace

    from signoff.outbox.documents import image_url

    hook = SimpleNamespace(kind="webhook", image_base_url="https://cdn.example.com/spring/")
    assert image_url(hook, "LUM-SPR-LAV-08 main#1.jpg", "spring") == (
        "https://cdn.example.com/spring/LUM-SPR-LAV-08%20main%231.jpg"
    )
    assert image_url(hook, "") is None
    # A folder serves each brief's images from the brief's own subfolder, where it writes them.
    drop = SimpleNamespace(kind="folder", image_base_url="https://cdn.example.com/drop")
    assert image_url(drop, "LUM-1.jpg", "spring") == "https://cdn.example.com/drop/spring/LUM-1.jpg"


def test_a_folder_keeps_each_briefs_images_apart_and_inside_it(tmp_path) -> None:
    from signoff.outbox.connectors import Attachment, DeliveryDocument
    from signoff.outbox.connectors.folder import FolderConnector
    from signoff.outbox.destinations import Destination

    destination = Destination.from_entry(
        {"name": "drop", "channel": CHANNEL, "kind": "folder", "path": str(tmp_path / "drop")}
    )

    def feed(brief: str, image: bytes, name: str = "LUM-1_feed_v1.jpg") -> DeliveryDocument:
        digest = hashlib.sha256(image).hexdigest()
        return DeliveryDocument(
            destination,
            f"key-{brief}",
            b"{}",
            filename=f"{brief}.json",
            attachments=(Attachment(f"{brief}/{name}", digest, lambda: image),),
        )

    assert FolderConnector().send(feed("spring", b"spring image")).ok
    assert FolderConnector().send(feed("autumn", b"autumn image")).ok
    assert FolderConnector().send(feed("..", b"sneaky", name="../../outside.jpg")).ok

    drop = tmp_path / "drop"
    assert (drop / "spring" / "LUM-1_feed_v1.jpg").read_bytes() == b"spring image"
    assert (drop / "autumn" / "LUM-1_feed_v1.jpg").read_bytes() == b"autumn image"
    assert not (tmp_path / "outside.jpg").exists()
    assert all(p.resolve().is_relative_to(drop) for p in drop.rglob("*"))
