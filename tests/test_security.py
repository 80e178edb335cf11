"""Attacks that once worked, kept as tests so they keep failing.

Each test plays a hostile user through one entry point (the command, the API, the web intake)
and asserts both the refusal and that nothing was stored or revealed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from api_helpers import api_error
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from signoff.briefs.models import Brief
from signoff.core.errors import InputError
from signoff.core.paths import confined, path_refusal
from signoff.core.sourcemap import parse_yaml

# About 300 bytes that a loader copying every alias grows into 10^9 list items.
BILLION_LAUGHS = textwrap.dedent(
    """\
    brief: laughs
    name: Laughs
    workspace: lumen-home
    channels: [amazon_us_pdp]
    a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]
    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]
    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]
    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]
    e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]
    f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]
    g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]
    h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]
    i: [*h,*h,*h,*h,*h,*h,*h,*h,*h,*h]
    """
)
ANCHOR_LINE = 5  # the first anchor, where the refusal points


def upload(name: str, text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="application/octet-stream")


# --- 1. YAML alias expansion ------------------------------------------------------------------


def test_an_anchor_or_alias_is_refused_at_its_line():
    with pytest.raises(InputError) as caught:
        parse_yaml(BILLION_LAUGHS, "laughs.yaml")
    (problem,) = caught.value.problems
    assert problem.file == "laughs.yaml"
    assert problem.line == ANCHOR_LINE
    assert "anchors and aliases" in problem.message

    # An alias alone (no anchor in sight) is refused too, at its own line.
    with pytest.raises(InputError) as caught:
        parse_yaml("a: 1\nb: *nowhere\n", "x.yaml")
    assert caught.value.problems[0].line == 2


def test_plain_yaml_still_loads_with_its_lines():
    doc = parse_yaml("a: 1\nb:\n  - x\n  - '&not an anchor'\n", "ok.yaml")
    assert doc.data == {"a": 1, "b": ["x", "&not an anchor"]}
    assert doc.line_of(("b", 1)) == 4


def test_a_document_over_the_size_cap_is_refused_without_parsing(monkeypatch):
    from signoff.core import sourcemap

    monkeypatch.setattr(sourcemap, "MAX_DOCUMENT_CHARS", 100)
    with pytest.raises(InputError) as caught:
        parse_yaml("a: " + "x" * 200, "big.yaml")
    assert "at most 100" in caught.value.problems[0].message


def test_the_alias_bomb_is_refused_by_brief_add_under_a_memory_limit(tmp_path):
    """The whole command, in a process that may not grow past 1 GiB: the bomb grew a server to
    11 GB before; now it exits 2 with the located problem, quickly and within the limit."""
    brief = tmp_path / "laughs.yaml"
    brief.write_text(BILLION_LAUGHS, encoding="utf-8")
    limit = 1 << 30
    script = textwrap.dedent(
        f"""\
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
        from signoff.cli import main
        sys.argv = ["signoff", "brief", "add", {str(brief)!r}]
        main()
        """
    )
    env = {**os.environ, "SIGNOFF_HOME": str(tmp_path / "home")}
    env.pop("SIGNOFF_DATABASE_URL", None)
    signoff = str(Path(sys.executable).parent / "signoff")
    subprocess.run([signoff, "init"], env=env, check=True, capture_output=True, timeout=120)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 2, done.stderr
    assert f"laughs.yaml:{ANCHOR_LINE}" in done.stderr
    assert "anchors and aliases" in done.stderr


@pytest.mark.django_db
def test_the_alias_bomb_is_refused_by_the_web_intake_and_the_api(
    as_person, api, settings, tmp_path
):
    settings.SIGNOFF_HOME = tmp_path / "home"
    client = as_person("ari")
    response = client.post(
        reverse("web:brief-new"), {"mode": "upload", "brief_file": upload("b.yaml", BILLION_LAUGHS)}
    )
    assert response.status_code == 400
    assert "anchors and aliases" in response.text
    assert not Brief.objects.exists()
    # Nothing the refused upload wrote stays behind.
    assert not any((settings.SIGNOFF_HOME / "uploads").rglob("*.yaml"))


# --- 2. Paths that leave the brief's folder -----------------------------------------------------


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("/etc/passwd", "absolute"),
        ("C:\\Windows\\win.ini", "absolute"),
        ("C:win.ini", "drive"),
        ("../../etc/passwd", "'..'"),
        ("references/../../secret.png", "'..'"),
        ("..\\..\\secret.png", "'..'"),
        ("~/secret.png", "'~'"),
        ("", "empty"),
        ("a\x00b.png", "NUL"),
    ],
)
def test_paths_that_could_leave_the_folder_are_refused_with_the_reason(path, why):
    assert why in path_refusal(path)


def test_a_symlink_out_of_the_folder_is_no_file(tmp_path):
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"secret")
    folder = tmp_path / "brand"
    (folder / "references").mkdir(parents=True)
    (folder / "references" / "ok.png").write_bytes(b"fine")
    (folder / "references" / "link.png").symlink_to(outside)
    (folder / "references" / "inside-link.png").symlink_to(folder / "references" / "ok.png")
    assert confined(folder, "references/ok.png") == (folder / "references" / "ok.png").resolve()
    assert confined(folder, "references/inside-link.png") is not None
    assert confined(folder, "references/link.png") is None
    assert confined(folder, "references/none.png") is None
    assert confined(folder, "../secret.png") is None


def _brief_with_image(example_dir: Path, image: str) -> Path:
    text = (example_dir / "briefs" / "spring-candles.yaml").read_text(encoding="utf-8")
    text = text.replace("references/winter-hero.png", image)
    path = example_dir / "briefs" / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.django_db
@pytest.mark.parametrize("image", ["/etc/hostname", "../../../../../../etc/hostname"])
def test_brief_add_refuses_a_path_out_of_the_brief_folder(cli, cli_workspace, image):
    brief = _brief_with_image(cli_workspace, image)
    result = cli("brief", "add", str(brief))
    assert result.exit_code == 2
    assert "hostile.yaml:" in result.output
    assert "references.0.path" in result.output
    assert not Brief.objects.exists()


@pytest.mark.django_db
def test_brief_add_refuses_a_symlink_that_leads_out(cli, cli_workspace, tmp_path):
    secret = tmp_path / "outside.png"
    secret.write_bytes((cli_workspace / "references" / "winter-hero.png").read_bytes())
    (cli_workspace / "references" / "sneaky.png").symlink_to(secret)
    brief = _brief_with_image(cli_workspace, "references/sneaky.png")
    result = cli("brief", "add", str(brief))
    assert result.exit_code == 2
    assert "'references/sneaky.png' not found" in result.output
    assert not Brief.objects.exists()


@pytest.mark.django_db
def test_the_api_refuses_server_paths_and_never_names_the_upload_folder(
    api, lumen_workspace, example_dir, settings, tmp_path
):
    import yaml

    settings.SIGNOFF_HOME = tmp_path / "home"
    document = yaml.safe_load((example_dir / "briefs" / "spring-candles.yaml").read_text())
    document["products"] = [{"sku": "X-1", "name": "X", "images": ["/etc/hostname"]}]
    document["references"] = [{"kind": "brand_example", "path": "../../../../etc/hostname"}]
    response = api("ari").post("/api/briefs", document)
    error = api_error(response, 422, "invalid_input")
    fields = {p["field"]: p["message"] for p in error["problems"]}
    assert "absolute path" in fields["products.0.images.0"]
    assert "'..'" in fields["references.0.path"]
    assert str(settings.SIGNOFF_HOME) not in response.text
    assert not Brief.objects.exists()

    # A plain relative name that is not in the upload: refused, and the folder stays unnamed.
    document["products"][0]["images"] = ["references/ember-packshot.png"]
    document["references"] = []
    response = api("ari").post("/api/briefs", document)
    error = api_error(response, 422, "invalid_input")
    assert "not found (looked in the upload)" in error["problems"][0]["message"]
    assert str(settings.SIGNOFF_HOME) not in response.text


@pytest.mark.django_db
def test_an_upload_cannot_reach_a_neighbouring_upload(as_person, example_dir, settings, tmp_path):
    """The folder above an upload holds the workspace's other uploads: never a base for paths."""
    settings.SIGNOFF_HOME = tmp_path / "home"
    neighbour = settings.SIGNOFF_HOME / "uploads" / "lumen-home" / "earlier"
    (neighbour / "references").mkdir(parents=True)
    (neighbour / "references" / "winter-hero.png").write_bytes(b"someone else's file")
    # The brief names a file as if the uploads folder were its brand folder.
    text = (example_dir / "briefs" / "spring-candles.yaml").read_text(encoding="utf-8")
    text = text.replace("references/winter-hero.png", "earlier/references/winter-hero.png")
    response = as_person("ari").post(
        reverse("web:brief-new"), {"mode": "upload", "brief_file": upload("b.yaml", text)}
    )
    assert response.status_code == 400
    assert "earlier/references/winter-hero.png" in response.text
    assert "not found" in response.text
    assert str(settings.SIGNOFF_HOME) not in response.text
    assert not Brief.objects.exists()


@pytest.mark.django_db
def test_a_stored_path_that_leads_out_reads_as_missing_when_checked(spring_brief, tmp_path):
    """Versions stored before paths were confined are held to the same rule at check time."""
    from signoff.briefs.approval import approve_brief
    from signoff.packages.models import Finding
    from signoff.packages.services import run_brief

    version = spring_brief.latest_version()
    product = version.products.first()
    product.images = ["../../../../../../etc/hostname"]
    product.save(update_fields=["images"])
    approve_brief(
        brief=spring_brief, person=spring_brief.workspace.people.get(email="maya@lumen.example")
    )
    spring_brief.refresh_from_db()
    run_brief(spring_brief)
    missing = Finding.objects.filter(
        rule_id="spec.image_missing", version__package__sku=product.sku
    )
    assert missing.exists()
    assert all("/etc" not in f.message for f in missing)


# --- 3. Launch bundles that collided across workspaces ----------------------------------------


def _approved_at_every_gate(person, brief, channel: str) -> None:
    """Take every package of ``channel`` through G2, G3 and G4 (with its images)."""
    from image_helpers import give_images

    from signoff.packages.decisions import approve_package
    from signoff.packages.models import Package

    packages = list(Package.objects.filter(brief=brief, channel=channel))
    give_images(packages)
    for package in packages:
        for name in ("maya", "omar", "lena"):
            assert approve_package(package_id=package.pk, person=person(name)).ok


@pytest.mark.django_db
def test_two_workspaces_launch_briefs_of_the_same_slug_without_meeting(
    api, spring_run, spring_brief, person, other_workspace, example_dir, settings, tmp_path
):
    from signoff.briefs.approval import approve_brief
    from signoff.briefs.services import add_brief
    from signoff.packages.services import run_brief

    # given: a second brand with a brief of the same slug, its meta_feed_ad channel approved
    # at every gate, like Lumen Home's
    settings.SIGNOFF_EXPORT_DIR = tmp_path / "exports"
    brief_file = example_dir / "briefs" / "spring-other.yaml"
    brief_file.write_text(
        (example_dir / "briefs" / "spring-candles.yaml")
        .read_text()
        .replace("workspace: lumen-home", "workspace: other-brand")
    )
    twin = add_brief(brief_file, products_csv=example_dir / "products.csv").brief
    assert (twin.slug, twin.workspace.slug) == (spring_brief.slug, "other-brand")

    def other_person(name: str):
        return other_workspace.people.get(email=f"{name}@other.example")

    approve_brief(brief=twin, person=other_person("maya"))
    twin.refresh_from_db()
    run_brief(twin)
    _approved_at_every_gate(person, spring_brief, "meta_feed_ad")
    _approved_at_every_gate(other_person, twin, "meta_feed_ad")
    launch = f"/api/briefs/{twin.slug}/launch"

    # when: each brand launches its channel through the API
    first = api("lena").post(launch, {"channel": "meta_feed_ad"})
    second = api("lena", "other-brand").post(launch, {"channel": "meta_feed_ad"})

    # then: both launch, each into its own workspace's folder, named without server paths
    assert first.status_code == 200, first.json()
    assert second.status_code == 200, second.json()
    assert first.json()["bundle"] == f"lumen-home/{twin.slug}/meta_feed_ad"
    assert second.json()["bundle"] == f"other-brand/{twin.slug}/meta_feed_ad"
    for workspace in ("lumen-home", "other-brand"):
        bundle = tmp_path / "exports" / workspace / twin.slug / "meta_feed_ad"
        assert f'"workspace":"{workspace}"' in (bundle / "manifest.json").read_text()

    # and a second launch is refused saying who launched it when, never where on the server
    again = api("lena", "other-brand").post(launch, {"channel": "meta_feed_ad"})
    message = api_error(again, 409, "invalid_state")["message"]
    assert "launched already, by lena@other.example" in message
    assert str(tmp_path) not in message
    assert "lumen-home" not in message


# --- 4. API tokens that never expired and outlived leaving the workspace --------------------


@pytest.mark.django_db
def test_a_removed_persons_token_stays_dead_when_they_are_listed_again(
    api, lumen_workspace, example_dir
):
    from signoff.workspaces.services import load_workspace

    ari = api("ari")
    assert ari.get("/api/me").status_code == 200
    text = (example_dir / "workspace.yaml").read_text(encoding="utf-8")
    without = example_dir / "without-ari.yaml"
    kept = [line for line in text.splitlines() if "email: ari@lumen.example," not in line]
    without.write_text("\n".join(kept) + "\n", encoding="utf-8")

    load_workspace(without)
    load_workspace(example_dir / "workspace.yaml")  # ari is back, with no token

    error = api_error(ari.get("/api/me"), 401, "unauthenticated")
    assert "was revoked on" in error["message"]
    assert "removed from the workspace" in error["message"]


@pytest.mark.django_db
def test_a_token_stops_at_its_expiry(api, lumen_workspace):
    from datetime import timedelta

    from django.utils import timezone

    from signoff.workspaces.models import ApiToken

    maya = api("maya")
    assert maya.get("/api/me").status_code == 200
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    error = api_error(maya.get("/api/me"), 401, "unauthenticated")
    assert "expired on" in error["message"]
    assert "issue a new one" in error["message"]


@pytest.mark.django_db
def test_a_colleague_cannot_revoke_someone_elses_token(api, lumen_workspace):
    from signoff.workspaces.models import ApiToken

    omar = api("omar")
    omar.get("/api/me")
    token = ApiToken.objects.get(person__email="omar@lumen.example")

    api_error(api("maya").post(f"/api/tokens/{token.pk}/revoke"), 403, "wrong_role")
    assert [t["person"] for t in api("maya").get("/api/tokens").json()] == ["maya@lumen.example"]
    assert omar.get("/api/me").status_code == 200


# --- 5. Sign-in guessing, unthrottled and unaudited --------------------------------------------


@pytest.mark.django_db
def test_password_guessing_is_stopped_before_the_right_password_is_tried(client, lumen_workspace):
    from signoff.audit.models import Event
    from signoff.web.accounts import ensure_users

    ensure_users(lumen_workspace, "correct horse battery staple")
    url = reverse("web:sign-in")
    for i in range(10):  # SIGNOFF_SIGNIN_ACCOUNT_LIMIT's default
        client.post(url, {"username": "maya@lumen.example", "password": f"guess {i}"})

    right = client.post(
        url, {"username": "maya@lumen.example", "password": "correct horse battery staple"}
    )

    assert right.status_code == 429
    assert int(right["Retry-After"]) > 0
    assert client.get(reverse("web:home")).status_code == 302  # still signed out
    assert not Event.objects.filter(action="signin.succeeded").exists()


@pytest.mark.django_db
def test_sign_in_never_says_whether_an_email_exists(client, lumen_workspace):
    import re

    from signoff.web.accounts import ensure_users

    ensure_users(lumen_workspace, "correct horse battery staple")
    url = reverse("web:sign-in")

    def answer(email: str) -> tuple[int, str]:
        response = client.post(url, {"username": email, "password": "not it"})
        page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.text)
        return response.status_code, page.replace(email, "EMAIL")

    assert answer("maya@lumen.example") == answer("nobody@lumen.example")


@pytest.mark.django_db
def test_token_guessing_from_one_address_is_throttled(client, api, lumen_workspace):
    statuses = {
        client.get(
            "/api/me", headers={"Authorization": f"Bearer so_guess{i}"}, REMOTE_ADDR="192.0.2.66"
        ).status_code
        for i in range(51)  # one past SIGNOFF_SIGNIN_ADDRESS_LIMIT's default
    }

    assert statuses == {401, 429}
    assert api("maya").get("/api/me").status_code == 200  # a real token still works


# --- 7. One person passing two gates of the same version --------------------------------------


@pytest.mark.django_db
def test_a_person_with_two_gate_roles_cannot_pass_g2_and_g3_of_one_version(
    api, spring_run, lumen_workspace
):
    from signoff.packages.models import Approval, Package
    from signoff.workspaces.models import Person

    # given: kim holds G2's role and G3's, and approved the draft at G2 through the API
    Person.objects.create(
        workspace=lumen_workspace,
        email="kim@lumen.example",
        name="Kim",
        roles=["content_lead", "compliance"],
    )
    package = Package.objects.get(sku="LUM-SPR-LAV-08", channel="amazon_us_pdp")
    assert api("kim").post(f"/api/packages/{package.pk}/approve").status_code == 200

    # when: she signs the same version off at G3
    response = api("kim").post(f"/api/packages/{package.pk}/approve")

    # then: refused as an authority error, and G3 is not passed
    api_error(response, 403, "same_person_two_gates")
    assert not Approval.objects.filter(package=package, gate="G3").exists()


# --- 8. Refused attempts that left no trace, and a flood of them -------------------------------


@pytest.mark.django_db
def test_a_flood_of_refused_approvals_is_recorded_without_swamping_the_log(api, spring_run):
    from signoff.audit.models import Event
    from signoff.packages.models import Package

    package = Package.objects.get(sku="LUM-SPR-LAV-08", channel="amazon_us_pdp")
    omar = api("omar")  # his token is issued (and recorded) before counting
    before = Event.objects.count()

    # when: omar (compliance, not G2's role) tries to approve it 60 times through the API
    for _ in range(60):
        api_error(omar.post(f"/api/packages/{package.pk}/approve"), 403, "wrong_role")

    # then: the attempt is in the log, once or (if a minute turned meanwhile) twice, not 60 times
    refused = Event.objects.filter(seq__gt=before, action="package.decision.refused")
    assert 1 <= refused.count() <= 2
    assert Event.objects.count() - before == refused.count()
    assert {(e.actor, e.data["code"]) for e in refused} == {("omar@lumen.example", "wrong_role")}
