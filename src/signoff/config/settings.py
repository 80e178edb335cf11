"""Settings for Signoff.

Everything a deployment changes comes from the environment:
``SIGNOFF_HOME`` (default ``~/.signoff``) holds the embedded SQLite database;
``SIGNOFF_DATABASE_URL`` (``postgres://...``) switches to PostgreSQL.
"""

import os
from pathlib import Path

import dj_database_url

SIGNOFF_HOME = Path(os.environ.get("SIGNOFF_HOME", Path.home() / ".signoff")).expanduser()

SECRET_KEY = os.environ.get(
    "SIGNOFF_SECRET_KEY", "signoff-local-development-key-not-for-production"
)
DEBUG = os.environ.get("SIGNOFF_DEBUG", "") == "1"
ALLOWED_HOSTS = os.environ.get("SIGNOFF_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",")

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "signoff.core",
    "signoff.workspaces",
    "signoff.briefs",
    "signoff.packages",
    "signoff.audit",
    "signoff.delivery",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "signoff.config.urls"
WSGI_APPLICATION = "signoff.config.wsgi.application"


def _database() -> dict:
    url = os.environ.get("SIGNOFF_DATABASE_URL", "").strip()
    if url:
        return dj_database_url.parse(url, conn_max_age=60)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(SIGNOFF_HOME / "signoff.sqlite3"),
        "OPTIONS": {
            # WAL lets readers work while the one writer writes; IMMEDIATE takes the write lock
            # at BEGIN so concurrent writers queue instead of failing mid-transaction.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        },
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("SIGNOFF_LOG_LEVEL", "WARNING")},
}

# The provider every agent uses unless configured otherwise (the AI layer extends this).
SIGNOFF_PROVIDERS = {
    "default": {"BACKEND": "signoff.agents.providers.builtin.BuiltinProvider"},
}
