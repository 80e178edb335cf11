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


# --- 6. Smaller holes ---------------------------------------------------------------------------

# a. Refused web uploads stay on disk.


def _upload_files(home: Path) -> list[Path]:
    return [p for p in (home / "uploads").rglob("*") if p.is_file()]


@pytest.mark.django_db
def test_a_refused_web_upload_leaves_no_file_behind(as_person, example_dir, settings, tmp_path):
    settings.SIGNOFF_HOME = tmp_path / "home"
    brief = (example_dir / "briefs" / "spring-candles.yaml").read_text(encoding="utf-8")
    bad_csv = "sku,name,price\nLUM-SPR-LAV-08,Lavender,not a price\n"
    response = as_person("ari").post(
        reverse("web:brief-new"),
        {
            "mode": "upload",
            "brief_file": upload("b.yaml", brief),
            "products_csv": upload("p.csv", bad_csv),
        },
    )
    assert response.status_code == 400
    assert not Brief.objects.exists()
    assert _upload_files(settings.SIGNOFF_HOME) == []  # neither the brief nor the CSV


@pytest.mark.django_db
def test_an_upload_that_fails_midway_leaves_no_file_behind(
    as_person, example_dir, settings, tmp_path, monkeypatch
):
    from signoff.web import intake

    def breaks(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the database went away")

    settings.SIGNOFF_HOME = tmp_path / "home"
    monkeypatch.setattr(intake, "add_brief", breaks)
    brief = (example_dir / "briefs" / "spring-candles.yaml").read_text(encoding="utf-8")
    with pytest.raises(RuntimeError):
        as_person("ari").post(
            reverse("web:brief-new"), {"mode": "upload", "brief_file": upload("b.yaml", brief)}
        )
    assert _upload_files(settings.SIGNOFF_HOME) == []


# b. A body over the size limit: the API's JSON envelope, not Django's HTML 400.


@pytest.mark.django_db
@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_a_20_mb_body_to_the_api_is_a_json_413_naming_the_limit(
    client, api, lumen_workspace, content_type
):
    body = b"[" + b" " * (20 * 1024 * 1024) + b"]"
    response = client.post(
        "/api/packages/batch", body, content_type=content_type, headers=api("maya").headers
    )
    error = api_error(response, 413, "too_large")
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in error["message"]
    assert "2,621,440 bytes" in error["message"]
    assert f"{len(body):,} bytes" in error["message"]


@pytest.mark.django_db
def test_a_form_with_too_many_fields_is_a_json_400(client, api, lumen_workspace):
    fields = {f"f{i}": "x" for i in range(1001)}  # one past DATA_UPLOAD_MAX_NUMBER_FIELDS
    response = client.post("/api/packages/batch", fields, headers=api("maya").headers)
    assert "more than 1,000 fields" in api_error(response, 400, "bad_request")["message"]


@pytest.mark.django_db
def test_a_web_page_keeps_its_html_answer_to_a_body_too_large(client, lumen_workspace):
    response = client.post(
        reverse("web:sign-in"),
        b"username=" + b"x" * (3 * 1024 * 1024),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


# c. A path out of the static folder.

TRAVERSALS = [
    "/static/..%2f..",
    "/static/..%2f..%2fconfig%2fsettings.py",
    "/static/%2e%2e/%2e%2e/",
    "/static/web/..%2f..%2f..%2fconfig%2fsettings.py",
    "/static/..%252f..%252f",
    "/static/..\\..\\settings.py",
]


@pytest.mark.django_db
@pytest.mark.parametrize("path", TRAVERSALS)
def test_a_static_path_out_of_the_static_folder_is_404(client, path):
    assert client.get(path).status_code == 404
    assert client.get("/static/web/signoff.css").status_code == 200  # the real files still are


@pytest.mark.django_db
def test_manage_py_runserver_answers_a_static_traversal_with_404():
    """`manage.py runserver` (DEBUG) served static files through Django's own handler, which
    raised SuspiciousFileOperation (a 500) for these; it leaves them to WhiteNoise now."""
    from wsgiref.util import setup_testing_defaults

    from django.core.management import get_commands, load_command_class

    command = load_command_class(get_commands()["runserver"], "runserver")
    # As `manage.py runserver --insecure` (what DEBUG does) parses its options.
    options = vars(command.create_parser("manage.py", "runserver").parse_args(["--insecure"]))
    handler = command.get_handler(**options)
    answered: list[str] = []
    for path in ("/static/../..", "/static/..%2f..", "/static/web/signoff.css"):
        environ = {"PATH_INFO": path, "HTTP_HOST": "localhost"}
        setup_testing_defaults(environ)
        handler(environ, lambda status, headers, *_: answered.append(status))
    assert [status.split()[0] for status in answered] == ["404", "404", "200"]


def test_signoff_serve_answers_a_static_traversal_with_404(tmp_path):
    """The dev server `signoff serve` (waitress and its static files) answered these with 500."""
    import socket
    import time
    import urllib.error
    import urllib.request

    env = {k: v for k, v in os.environ.items() if k != "SIGNOFF_DATABASE_URL"}
    env["SIGNOFF_HOME"] = str(tmp_path / "home")
    signoff = str(Path(sys.executable).parent / "signoff")
    subprocess.run([signoff, "init"], env=env, check=True, capture_output=True, timeout=120)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [signoff, "serve", "--port", str(port), "--no-worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def status(path: str) -> int:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as reply:
                return reply.status
        except urllib.error.HTTPError as refused:
            return refused.code

    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if status("/static/web/signoff.css") == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, "signoff serve stopped"
            assert time.monotonic() < deadline, "signoff serve did not start in time"
            time.sleep(0.3)
        assert {path: status(path) for path in TRAVERSALS} == dict.fromkeys(TRAVERSALS, 404)
    finally:
        server.terminate()
        server.wait(timeout=30)


# d. Sequence numbers and counts that told a tenant about other workspaces.


def _walk(value: object) -> list[str]:
    """Every key of a JSON document, at any depth."""
    if isinstance(value, dict):
        return [*value, *(k for v in value.values() for k in _walk(v))]
    if isinstance(value, list):
        return [k for v in value for k in _walk(v)]
    return []


@pytest.mark.django_db
def test_the_api_numbers_events_within_the_workspace_and_never_shows_the_global_seq(
    api, spring_run, other_workspace, as_person
):
    from signoff.audit.models import Event
    from signoff.packages.models import Package

    package = Package.objects.get(sku="LUM-SPR-LAV-08", channel="amazon_us_pdp")
    maya = api("maya")
    approved = maya.post(f"/api/packages/{package.pk}/approve")
    assert approved.status_code == 200
    shared = maya.post("/api/review-links", {"packages": [package.pk], "note": "calm and exact"})
    assert shared.status_code == 201
    mine = Event.objects.filter(workspace="lumen-home").order_by("seq")
    # given: another workspace's activity sits in the same chain
    assert Event.objects.exclude(workspace="lumen-home").exists()

    log = maya.get("/api/audit/log", limit=500).json()
    verified = maya.get("/api/audit/verify").json()
    who = maya.get("/api/audit/who-approved", sku=package.sku, channel=package.channel).json()
    hits = maya.get("/api/memory/search", q="calm exact", source="event").json()
    dashboard = maya.get("/api/dashboard").json()

    for document in (log, verified, who, hits, dashboard):
        assert not {"seq", "head_seq", "first_bad_seq"} & set(_walk(document))
    numbers = {e.hash: n for n, e in enumerate(mine, start=1)}
    assert [e["position"] for e in log] == [numbers[e["hash"]] for e in log]
    assert log[0]["position"] == mine.count()
    assert verified == {
        "ok": True,
        "count": mine.count(),
        "first_bad_position": None,
        "reason": None,
        "head_position": mine.count(),
        "head_hash": mine.last().hash,
    }
    approved = mine.filter(action="package.gate.approved").last()
    assert who["position"] == numbers[approved.hash]
    assert [h["id"] for h in hits] == [numbers[mine.get(action="link.created").hash]]
    # and the package page shows no sequence number either
    page = as_person("maya").get(reverse("web:package", kwargs={"package_id": package.pk}))
    assert f"#{approved.seq}" not in page.text


@pytest.mark.django_db
def test_a_break_in_another_workspaces_event_is_reported_without_its_place(
    api, lumen_workspace, other_workspace
):
    from django.db import connection

    from signoff.audit.models import Event
    from signoff.audit.testing import append_only_suspended

    theirs = Event.objects.filter(workspace="other-brand").order_by("seq").first()
    with append_only_suspended(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_event SET note = 'edited' WHERE seq = %s", [theirs.seq])

    verified = api("maya").get("/api/audit/verify").json()

    mine = Event.objects.filter(workspace="lumen-home", seq__lt=theirs.seq)
    assert verified["ok"] is False
    assert verified["first_bad_position"] is None
    assert "not your workspace's" in verified["reason"]
    assert verified["count"] == mine.count() == verified["head_position"]
    assert theirs.seq not in verified.values()


# e. Anonymous review-link views, one event each, and token guessing.


@pytest.fixture
def review_link(spring_run, person):
    from datetime import timedelta

    from signoff.packages.models import Package
    from signoff.sharing.services import create_review_link

    package = Package.objects.get(sku="LUM-SPR-LAV-08", channel="amazon_us_pdp")
    link, token = create_review_link(person("maya"), [package.pk], timedelta(days=1))
    return link, token, package


@pytest.mark.django_db
def test_a_flood_of_review_link_views_is_one_event_per_hour_carrying_the_count(
    client, review_link, monkeypatch
):
    from datetime import timedelta

    from django.utils import timezone

    from signoff.audit.models import Event
    from signoff.sharing import services

    link, token, package = review_link
    url = reverse("sharing:package", kwargs={"token": token, "package_id": package.pk})
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    monkeypatch.setattr(services, "now", lambda: hour + timedelta(minutes=10))
    before = Event.objects.count()

    # when: a guest (or a script) opens the package 40 times in one hour, then once more later
    for _ in range(40):
        assert client.get(url).status_code == 200
    monkeypatch.setattr(services, "now", lambda: hour + timedelta(hours=1, minutes=5))
    assert client.get(url).status_code == 200

    # then: one event for each hour, the second carrying the 39 views the first did not count
    views = list(Event.objects.filter(seq__gt=before).order_by("seq"))
    assert [e.action for e in views] == ["link.viewed", "link.viewed"]
    assert [e.data["earlier_views"] for e in views] == [0, 39]
    assert views[1].data["earlier_windows"] == [hour.isoformat()]
    assert {(e.subject_type, e.subject_id) for e in views} == {("review_link", str(link.pk))}


@pytest.mark.django_db
def test_review_link_token_guessing_is_throttled_per_address(client, review_link, settings):
    from datetime import timedelta

    from django.utils import timezone

    from signoff.audit.models import Event
    from signoff.web import throttle

    settings.SIGNOFF_SIGNIN_ADDRESS_LIMIT = 5
    _, token, _ = review_link
    guesser = {"REMOTE_ADDR": "192.0.2.77"}
    guesses = [
        client.get(reverse("sharing:review", kwargs={"token": f"guess{i}"}), **guesser)
        for i in range(6)
    ]

    assert [g.status_code for g in guesses] == [404] * 5 + [429]
    assert int(guesses[-1]["Retry-After"]) > 0
    # past the limit nothing from that address is looked up, a real link included ...
    real = reverse("sharing:review", kwargs={"token": token})
    assert client.get(real, **guesser).status_code == 429
    # ... while the same link opens from anywhere else
    assert client.get(real, REMOTE_ADDR="198.51.100.8").status_code == 200
    # and the guesses reach the audit log once their minute is over, counted per address
    assert throttle.flush(now=timezone.now() + timedelta(minutes=2)) >= 1
    refused = Event.objects.get(action="link.refused", subject_id="192.0.2.77")
    assert (refused.data["failures"], refused.data["throttled"]) == (5, 2)


# f. A production start with a placeholder secret key.


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("", "not set"),
        ("signoff-local-development-key-not-for-production", "the development key"),
        ("django-insecure-" + "k3y" * 20, "django-insecure- key"),
        ("changeme" * 8, "placeholder 'changeme'"),
        ("Change_Me-" + "q7Z" * 20, "placeholder 'changeme'"),
        ("a1b2" * 20, "4 distinct characters"),
        ("Zx9$" * 12, "48 characters"),
    ],
)
def test_a_weak_or_placeholder_secret_key_is_named_and_refused(key, why):
    from signoff.config.secret_key import secret_key_problem

    problem = secret_key_problem(key)
    assert problem is not None
    assert why in problem
    assert "SIGNOFF_SECRET_KEY" in problem


def test_a_random_secret_key_passes_and_development_keeps_its_own(settings):
    import secrets

    from signoff.config.secret_key import secret_key_problem

    assert secret_key_problem(secrets.token_urlsafe(50)) is None
    assert settings.SIGNOFF_PRODUCTION is False  # tests and development run with their key


def test_production_does_not_start_with_a_placeholder_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNOFF_")}
    env |= {
        "SIGNOFF_HOME": str(tmp_path),
        "SIGNOFF_PRODUCTION": "1",
        "SIGNOFF_SECRET_KEY": "changeme-" * 7,  # 63 characters, 8 distinct: long, not secret
        "DJANGO_SETTINGS_MODULE": "signoff.config.settings",
    }
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert "contains the placeholder 'changeme'" in done.stderr


# g. The web batch took more packages than the API.


@pytest.mark.django_db
def test_the_web_batch_refuses_more_packages_than_the_api_takes(
    as_person, api, spring_run, spring_brief
):
    from signoff.packages.decisions import BATCH_LIMIT
    from signoff.packages.models import Package, Review

    ids = list(Package.objects.values_list("id", flat=True))
    # Unknown ids past every real one: real ids grow across the suite and must not collide.
    first_unknown = max(ids) + 1
    too_many = ids + list(range(first_unknown, first_unknown + BATCH_LIMIT + 1 - len(ids)))
    assert len(too_many) == BATCH_LIMIT + 1

    page = as_person("maya").post(
        reverse("web:board-batch", kwargs={"slug": spring_brief.slug}),
        {"action": "review", "ids": too_many},
    )
    assert page.status_code == 400
    assert f"At most {BATCH_LIMIT} packages per batch" in page.text
    assert f"{BATCH_LIMIT + 1} were selected" in page.text
    assert not Review.objects.exists()  # nothing was changed

    error = api_error(
        api("maya").post("/api/packages/batch", {"action": "review", "ids": too_many}),
        422,
        "invalid_input",
    )
    assert error["problems"][0]["field"] == "ids"
    assert not Review.objects.exists()
    # and at the limit the web takes them (the unknown ids are refused one by one)
    done = as_person("maya").post(
        reverse("web:board-batch", kwargs={"slug": spring_brief.slug}),
        {"action": "review", "ids": too_many[:BATCH_LIMIT]},
    )
    assert done.status_code == 200
    assert done.text.count("<li data-package=") == BATCH_LIMIT  # one result per id
    assert Review.objects.exists()


# h. The losers of an approval race.


@pytest.mark.django_db
def test_an_approval_that_lost_the_race_is_a_state_refusal(spring_run, person):
    from django.utils import timezone

    from signoff.audit.models import Event
    from signoff.packages.decisions import approve_package
    from signoff.packages.models import Package
    from signoff.workflow import StateError

    package = Package.objects.get(sku="LUM-SPR-LAV-08", channel="amazon_us_pdp")
    # given: maya clicks Approve on the G2 page twice; the first click wins meanwhile
    asked_at = timezone.now()
    assert approve_package(package_id=package.pk, person=person("maya")).ok

    # when: the second click's approval gets the lock, the package waits on G3 (compliance)
    with pytest.raises(StateError) as lost:
        approve_package(package_id=package.pk, person=person("maya"), asked_at=asked_at)

    # then: a state refusal (409: look again), not the authority one G3 would give her (403)
    assert (lost.value.code.value, lost.value.http_status) == ("invalid_state", 409)
    assert "moved on while your approve waited" in lost.value.message
    assert "waiting on G3" in lost.value.message
    refused = Event.objects.get(action="package.decision.refused")
    assert refused.data["code"] == "invalid_state"
    # asked after the move, the same approval is the authority refusal it always was
    from signoff.workflow import AuthorityError

    with pytest.raises(AuthorityError):
        approve_package(package_id=package.pk, person=person("maya"))


# i. A brief of thousands of products on one page.


@pytest.mark.django_db
def test_the_brief_page_lists_one_page_of_a_brief_of_thousands_of_products(as_person, spring_brief):
    from signoff.briefs.models import Product

    version = spring_brief.latest_version()
    first = version.products.count()
    Product.objects.bulk_create(
        Product(
            brief_version=version,
            sku=f"BULK-{i:05d}",
            name=f"Bulk candle {i}",
            position=first + i,
            attributes={"scent": "fig"},
        )
        for i in range(3000)
    )
    url = reverse("web:brief", kwargs={"slug": spring_brief.slug})
    maya = as_person("maya")

    page = maya.get(url)
    second = maya.get(url, {"page": 2})
    last = maya.get(url, {"page": 31})

    assert page.status_code == second.status_code == last.status_code == 200
    assert len(page.content) < 250_000  # 3,006 products listed whole were megabytes
    assert "3006 products" in page.text
    assert "page 1 of 31" in page.text
    assert 'href="?page=2#completeness"' in page.text
    # only the page's products: in the completeness rows and in the G1 diff
    assert page.text.count('<td class="nowrap mono">') == 100
    assert "LUM-SPR-LAV-08" in page.text  # the file's own products come first
    assert "BULK-00093" in page.text
    assert "BULK-00094" not in page.text
    assert "BULK-00094" in second.text
    assert "BULK-00093" not in second.text
    assert "BULK-02999" in last.text
    assert last.text.count('<td class="nowrap mono">') == 6
    assert "the products 101–200" in second.text


@pytest.mark.django_db
def test_the_brief_pages_data_requests_list_one_page_of_skus(as_person, spring_brief):
    from django.utils import timezone

    from signoff.packages.models import Package

    Package.objects.bulk_create(
        Package(
            brief=spring_brief,
            sku=f"BULK-{i:04d}",
            channel="amazon_us_pdp",
            state=Package.State.BLOCKED,
            stage_entered_at=timezone.now(),
            completeness={"missing": ["gtin"]},
        )
        for i in range(150)
    )
    url = reverse("web:brief-data-requests", kwargs={"slug": spring_brief.slug})
    maya = as_person("maya")

    first = maya.get(url, headers={"HX-Request": "true"})
    second = maya.get(url, {"page": 2}, headers={"HX-Request": "true"})

    assert first.text.count('class="data-request-sku"') == 100
    assert second.text.count('class="data-request-sku"') == 50
    assert "150 SKUs · page 1 of 2" in first.text
    assert "BULK-0149" in second.text
    assert "BULK-0149" not in first.text


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
