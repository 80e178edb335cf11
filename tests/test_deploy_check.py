"""`manage.py check --deploy` is clean with production settings (SIGNOFF_PRODUCTION=1)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def check_deploy(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SIGNOFF_") and k != "DJANGO_SETTINGS_MODULE"
    }
    clean.update(SIGNOFF_HOME=str(tmp_path), DJANGO_SETTINGS_MODULE="signoff.config.settings")
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = check_deploy(
        tmp_path, SIGNOFF_PRODUCTION="1", SIGNOFF_SECRET_KEY=secrets.token_urlsafe(50)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_without_a_secret_key_fails_with_a_clear_message(tmp_path):
    result = check_deploy(tmp_path, SIGNOFF_PRODUCTION="1")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SIGNOFF_PRODUCTION=1 needs SIGNOFF_SECRET_KEY" in result.stderr


def test_production_refuses_the_development_key(tmp_path):
    result = check_deploy(
        tmp_path,
        SIGNOFF_PRODUCTION="1",
        SIGNOFF_SECRET_KEY="signoff-local-development-key-not-for-production",
    )
    assert result.returncode != 0
    assert "needs SIGNOFF_SECRET_KEY" in result.stderr


def test_a_weak_production_key_refuses_to_start(tmp_path):
    # Once a deploy-check warning (security.W009); now production does not start at all.
    result = check_deploy(tmp_path, SIGNOFF_PRODUCTION="1", SIGNOFF_SECRET_KEY="short")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "it has 5 characters, fewer than 50" in result.stderr


def test_debug_in_production_is_off_even_when_asked_for(tmp_path):
    result = check_deploy(
        tmp_path,
        SIGNOFF_PRODUCTION="1",
        SIGNOFF_DEBUG="1",
        SIGNOFF_SECRET_KEY=secrets.token_urlsafe(50),
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", ["SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE"])
def test_development_defaults_are_unchanged_without_the_switch(settings, name):
    assert getattr(settings, name) is False
    assert settings.SIGNOFF_PRODUCTION is False
    assert settings.SECURE_HSTS_SECONDS == 0
