"""`signoff serve` as a person meets it: a real WSGI server (waitress) with its static files
(WhiteNoise) and, unless ``--no-worker``, the background worker in a child process.

Each test starts the installed command on a free loopback port against a SIGNOFF_HOME of the
module's own (SQLite), and clicks Run over HTTP the way the browser's form does.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from cli_helpers import BRIEF

EXAMPLE = Path(__file__).resolve().parents[1] / "src" / "signoff" / "demo" / "lumen-home"
PROGRESS = f"/briefs/{BRIEF}/run/progress/"
HX = {"HX-Request": "true"}


# One process sets the home up (each `signoff` command would start Django again): the same
# commands as `signoff init`, `signoff load` and `signoff brief add`, G1 passed by the content
# lead, then a web session each for Ari (operator) and Maya (content lead) and Maya's API token.
SETUP = """
import json, sys
import django
django.setup()
from django.test import Client
from signoff.briefs.approval import approve_brief
from signoff.briefs.models import Brief
from signoff.cli import main
from signoff.web.accounts import ensure_user
from signoff.workspaces.tokens import find_person, issue_token

example = sys.argv[1]
for args in (
    ["init"],
    ["load", f"{example}/workspace.yaml"],
    ["brief", "add", f"{example}/briefs/spring-candles.yaml", "--products",
     f"{example}/products.csv"],
):
    main(args, standalone_mode=False)
maya = find_person("maya@lumen.example", "lumen-home")
approve_brief(brief=Brief.objects.get(slug=sys.argv[2]), person=maya, note="G1 for the test")
sessions = {}
for email in ("ari@lumen.example", "maya@lumen.example"):
    client = Client()
    client.force_login(ensure_user(find_person(email, "lumen-home")))
    sessions[email] = client.cookies["sessionid"].value
token = issue_token(email="maya@lumen.example", workspace="lumen-home")
print("SETUP " + json.dumps({"sessions": sessions, "token": token}))
"""


@dataclass
class Home:
    env: dict[str, str]
    sessions: dict[str, str]
    token: str
    path: Path

    def cli(self, *args: str) -> None:
        command = [str(Path(sys.executable).parent / "signoff"), *args]
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    path = tmp_path_factory.mktemp("serve-home")
    env = {k: v for k, v in os.environ.items() if k != "SIGNOFF_DATABASE_URL"}
    env |= {"SIGNOFF_HOME": str(path), "DJANGO_SETTINGS_MODULE": "signoff.config.settings"}
    done = subprocess.run(
        [sys.executable, "-c", SETUP, str(EXAMPLE), BRIEF],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.rsplit("SETUP ", 1)[1])
    return Home(env, found["sessions"], found["token"], path)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


class _Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a redirect is an answer to look at, not a page to follow


class Browser:
    """Just enough of a browser: keeps cookies, follows no redirect, returns bytes as sent."""

    def __init__(self, url: str, session: str = "") -> None:
        self.url = url
        self.cookies = {"sessionid": session} if session else {}
        self.opener = urllib.request.build_opener(_Stay())

    def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return self._send(urllib.request.Request(self.url + path, headers=headers or {}))

    def post(self, path: str, data: dict[str, str]) -> Reply:
        body = urllib.parse.urlencode(data).encode()
        return self._send(urllib.request.Request(self.url + path, data=body, method="POST"))

    def _send(self, request: urllib.request.Request) -> Reply:
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        try:
            response = self.opener.open(request, timeout=10)
        except urllib.error.HTTPError as answer:  # 3xx (not followed) and 4xx/5xx
            response = answer
        with response:
            for header in response.headers.get_all("Set-Cookie") or []:
                self.cookies |= {k: m.value for k, m in SimpleCookie(header).items()}
            return Reply(response.status, dict(response.headers), response.read())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(
    home: Home, *args: str, stop: signal.Signals = signal.SIGTERM
) -> Iterator[tuple[str, Path]]:
    """Run `signoff serve ARGS` until the block ends, then stop it with ``stop`` (SIGTERM as a
    service manager would, SIGINT as Ctrl-C does) and check it stopped cleanly; yield its URL
    and the file of its output."""
    port = free_port()
    log = home.path / f"serve-{port}.log"
    command = [str(Path(sys.executable).parent / "signoff"), "serve", "--port", str(port), *args]
    with log.open("w") as sink:
        server = subprocess.Popen(command, env=home.env, stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert server.poll() is None, log.read_text()
            try:
                if Browser(url).get("/sign-in/").status == 200:
                    break
            except OSError:  # not listening yet
                pass
            assert time.monotonic() < deadline, f"not serving after 20 s: {log.read_text()}"
            time.sleep(0.1)
        yield url, log
    finally:
        if server.poll() is None:
            server.send_signal(stop)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert server.returncode == 0, log.read_text()


def csrf(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def click_run(browser: Browser) -> None:
    """Press the Run button of the brief's run panel (a form post, as without htmx)."""
    panel = browser.get(PROGRESS)
    assert panel.status == 200
    response = browser.post(f"/briefs/{BRIEF}/run/", {"csrfmiddlewaretoken": csrf(panel.text)})
    assert response.status == 302, response.text


def finished_runs(home: Home, url: str) -> int:
    """How many runs of the brief have finished, as the API tells Maya."""
    request = urllib.request.Request(
        f"{url}/api/briefs/{BRIEF}/runs", headers={"Authorization": f"Bearer {home.token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return sum(1 for run in json.load(response) if run["finished_at"])


def people(home: Home, url: str) -> tuple[Browser, Browser]:
    """Ari and Maya, each signed in on a browser of their own."""
    return tuple(Browser(url, home.sessions[f"{name}@lumen.example"]) for name in ("ari", "maya"))


def test_without_its_worker_a_run_waits_queued_and_everyone_sees_it(home: Home) -> None:
    with serving(home, "--no-worker") as (url, log):
        before = finished_runs(home, url)
        ari, maya = people(home, url)
        click_run(ari)
        time.sleep(1.5)  # a worker (it looks every second) would have taken it by now
        for browser in (ari, maya):  # Maya never clicked: the queue is shared state
            panel = browser.get(PROGRESS, HX).text
            assert '<h3 id="run-title">Queued</h3>' in panel
            assert 'hx-trigger="every 2s"' in panel
            assert "signoff " not in panel  # no command for a web user to run
        assert finished_runs(home, url) == before
        # A separate worker (the deployment --no-worker is for) takes it; Maya sees it done.
        home.cli("worker", "--batch")
        assert finished_runs(home, url) == before + 1
        panel = maya.get(PROGRESS, HX).text
        assert "hx-trigger" not in panel
        assert '<span class="run-status">finished</span>' in panel
    assert "Background worker" not in log.read_text()


def test_serve_runs_queued_work_itself_on_a_production_server(home: Home) -> None:
    with serving(home, stop=signal.SIGINT) as (url, log):  # Ctrl-C
        # Not Django's development server: waitress, and static files from WhiteNoise (gzip).
        asset = Browser(url).get("/static/web/htmx.min.js", {"Accept-Encoding": "gzip"})
        assert asset.status == 200
        assert asset.headers["Server"] == "waitress"
        assert asset.headers["Content-Encoding"] == "gzip"
        assert b"htmx" in gzip.decompress(asset.body)
        page = Browser(url).get("/sign-in/")
        assert page.headers["Server"] == "waitress"  # runserver says WSGIServer/0.2 CPython

        before = finished_runs(home, url)
        ari, maya = people(home, url)
        click_run(ari)
        deadline = time.monotonic() + 15
        while finished_runs(home, url) < before + 1:  # no `signoff worker` was started
            assert time.monotonic() < deadline, f"the queued run never ran: {log.read_text()}"
            time.sleep(0.2)
        panel = maya.get(PROGRESS, HX).text  # someone who did not click sees it done
        assert "hx-trigger" not in panel
        assert '<span class="run-status">finished</span>' in panel
        worker = re.search(r"Background worker started \(pid (\d+)\)", log.read_text())
    text = log.read_text()
    assert "development server" not in text.lower()
    assert "state=SUCCESSFUL" in text  # the worker logs to the server's console
    assert "Background worker stopped." in text
    with pytest.raises(ProcessLookupError):  # it stopped with the server, not left behind
        os.kill(int(worker.group(1)), 0)
