"""What the browser tests share: where chromium is, the password, screenshots, sign-in."""

from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = Path(os.environ.get("SIGNOFF_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "correct horse battery staple"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class Watched:
    """A page that remembers every dialog (alert/confirm) and CSP violation it saw."""

    def __init__(self, page: object) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.csp_errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("console", self._console)

    def _dialog(self, dialog: object) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, message: object) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.csp_errors.append(message.text)


def shot(page: object, name: str) -> None:
    """Save the page to docs/screenshots/ when SIGNOFF_SCREENSHOTS=1 (so runs leave no diff)."""
    if not os.environ.get("SIGNOFF_SCREENSHOTS"):
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_load_state("networkidle")  # thumbnails are made on request: let them load
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page: object, site: str, name: str, *, screenshot: str | None = None) -> None:
    """Sign in as ``name``@lumen.example with the browser tests' password."""
    page.context.clear_cookies()
    page.goto(f"{site}/sign-in/")
    page.fill("input[name=username]", f"{name}@lumen.example")
    page.fill("input[name=password]", PASSWORD)
    if screenshot:
        shot(page, screenshot)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}/")
