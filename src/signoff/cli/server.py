"""What `signoff serve` (and so `signoff demo`) runs: the web app under a production WSGI server
(waitress), its static files through WhiteNoise, and beside it the background worker.

The worker is `signoff worker` itself, in a child process: it drains whatever tasks the queue
holds (runs, image batches, notes, ...) with the same code, and the drafting it does (CPU-bound
with the builtin provider, forking processes for large runs) neither holds the web server's
interpreter lock nor forks a process that has server threads. It logs to this console, stops
gracefully with the server (it finishes the task in hand; a second Ctrl-C stops that too), is
started again if it dies, and on Linux ends with the server even if the server is killed.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import threading
from types import FrameType

import click

from signoff.cli.base import err

# The child's whole program: tie its life to this process, then be `signoff worker`.
_WORKER_PROGRAM = "from signoff.cli.server import worker_child; worker_child()"
RESTART_DELAY = 5.0  # seconds before a worker that died is started again


def serve_app(host: str, port: int, *, worker: bool = True) -> None:
    """Serve the web app and the API until Ctrl-C or SIGTERM, with a worker unless told not."""
    from waitress import create_server

    _collect_static()  # before the app loads: WhiteNoise lists the files once, at start
    from signoff.config.wsgi import application

    supervisor = _Supervisor() if worker else None
    # SIGTERM stops it like Ctrl-C; so does SIGINT even where the shell that started it in the
    # background set it to be ignored.
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        try:
            server = create_server(application, host=host, port=port)
        except OSError as exc:
            hint = "; another program has that port: choose one with --port"
            raise click.ClickException(
                f"cannot serve on {host}:{port}: {exc.strerror or exc}"
                + (hint if exc.errno == errno.EADDRINUSE else "")
            ) from exc
        if supervisor is not None:
            supervisor.start()
        err.print(
            f"Serving on http://{host}:{port}/ (API docs at /api/docs)"
            + (
                ", with a background worker for queued runs, images and notes"
                if worker
                else "; queued work waits for a separate `signoff worker`"
            )
            + ". Ctrl-C stops it.",
            markup=False,
            soft_wrap=True,  # one line, whatever the terminal's width: people copy the URL
        )
        server.run()  # returns on KeyboardInterrupt (Ctrl-C, or SIGTERM through _interrupt)
        server.close()
        err.print("Server stopped.")
    finally:
        if supervisor is not None:
            supervisor.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def worker_child() -> None:
    """The worker's process: end with the server that started it, then run `signoff worker`."""
    server_pid = int(os.environ.get("SIGNOFF_SERVER_PID", "0") or 0)
    _end_with_parent()
    if server_pid and os.getppid() != server_pid:
        return  # the server ended before this process could tie itself to it
    from signoff.cli import main

    main(args=["worker"], prog_name="signoff")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _collect_static() -> None:
    """Copy (and gzip) the apps' static files to STATIC_ROOT for WhiteNoise to serve."""
    from django.conf import settings
    from django.core.management import call_command

    try:
        call_command("collectstatic", interactive=False, verbosity=0)
    except OSError as exc:  # a read-only SIGNOFF_HOME: WhiteNoise reads the apps' files then
        err.print(
            f"Static files not collected to {settings.STATIC_ROOT} ({exc}); serving them from "
            "the installed apps.",
            markup=False,
        )


def _end_with_parent() -> None:
    """Linux: have the kernel send this process SIGTERM when its parent dies (even killed -9)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM))  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # without it a killed server leaves its worker: `signoff worker` alone, harmless


class _Supervisor:
    """Keeps one worker process running beside the server and stops it with the server."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._process: subprocess.Popen | None = None
        self._thread = threading.Thread(target=self._keep, name="signoff-worker", daemon=True)

    def start(self) -> None:
        self._spawn()
        self._thread.start()

    def _spawn(self) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            env = os.environ | {"SIGNOFF_SERVER_PID": str(os.getpid())}
            # Its own session: a Ctrl-C at the terminal reaches the server only, which then
            # asks the worker to stop once (a second signal would stop its task mid-way).
            self._process = subprocess.Popen(
                [sys.executable, "-c", _WORKER_PROGRAM], env=env, start_new_session=True
            )
        err.print(f"Background worker started (pid {self._process.pid}).")

    def _keep(self) -> None:
        """Start the worker again whenever it ends while the server is still serving."""
        while not self._stopping.is_set():
            process = self._process
            code = process.wait() if process is not None else None
            if self._stopping.is_set():
                return
            err.print(
                f"The background worker ended (exit {code}); starting it again in "
                f"{RESTART_DELAY:.0f} s.",
                markup=False,
            )
            if self._stopping.wait(RESTART_DELAY):
                return
            self._spawn()

    def stop(self) -> None:
        """Ask the worker to stop (it finishes the task in hand); a second Ctrl-C (or
        SIGTERM) stops that task now, and it is recorded as stopped."""
        with self._lock:
            self._stopping.set()
            process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            try:
                process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                err.print(
                    "Waiting for the background worker to finish the task in hand "
                    "(Ctrl-C again stops it now)..."
                )
                process.wait()
        except KeyboardInterrupt:
            process.send_signal(signal.SIGTERM)  # the worker's second signal: stop the task
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        err.print("Background worker stopped.")
