"""Settings for Signoff.

Everything a deployment changes comes from the environment:
``SIGNOFF_HOME`` (default ``~/.signoff``) holds the embedded SQLite database;
``SIGNOFF_DATABASE_URL`` (``postgres://...``) switches to PostgreSQL.
"""

import json
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from signoff.config.secret_key import DEVELOPMENT_KEY, secret_key_problem

SIGNOFF_HOME = Path(os.environ.get("SIGNOFF_HOME", Path.home() / ".signoff")).expanduser()

SECRET_KEY = os.environ.get("SIGNOFF_SECRET_KEY", DEVELOPMENT_KEY)
DEBUG = os.environ.get("SIGNOFF_DEBUG", "") == "1"
ALLOWED_HOSTS = os.environ.get("SIGNOFF_ALLOWED_HOSTS", "localhost,127.0.0.1").split(",")

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    # `manage.py runserver` leaves static files to WhiteNoise too: Django's own dev handler
    # answered /static/..%2f.. with a 500 (SuspiciousFileOperation) instead of a 404.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",  # /api/docs from its own static files (no CDN, so the CSP holds)
    "signoff.core",
    "signoff.workspaces",
    "signoff.briefs",
    "signoff.packages",
    "signoff.audit",
    "signoff.delivery",
    "signoff.outbox",
    "signoff.web",
    "signoff.memory",
    "signoff.sharing",
    "signoff.visuals",
    "signoff.metrics",
    "signoff.notifications",
    "signoff.insights",
    "signoff.comments",
    "django_tasks",
    "django_tasks_db",
]

# Background work (AI calls run in tasks, never in a web request): the database queue, worked
# by the worker `signoff serve` starts beside the web app, or by `signoff worker` processes
# (`signoff serve --no-worker`). Scale out with more workers on PostgreSQL, or an RQ/Celery
# backend.
TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (WhiteNoise) right after security, before sessions: no database for a CSS.
    "signoff.core.static.StaticFilesMiddleware",
    # Before anything reads a body: an API body Django refuses is answered as JSON (413/400).
    "signoff.api.middleware.ApiBodyLimitMiddleware",
    "signoff.core.middleware.RejectNulBytesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "signoff.web.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "signoff.config.urls"

# Django templates: the web screens and the API's docs page (/api/docs).
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "signoff.web.context_processors.signed_in",
            ]
        },
    }
]

WSGI_APPLICATION = "signoff.config.wsgi.application"

# The web screens (signoff.web): session sign-in, static files, a CSP on every page.
STATIC_URL = "static/"
STATIC_ROOT = SIGNOFF_HOME / "static"

# Stored files (references, image versions, renditions), content-addressed by SHA-256 and
# keyed by workspace (signoff.visuals.storage). The filesystem under SIGNOFF_HOME by default;
# an S3-compatible bucket through django-storages when SIGNOFF_S3_BUCKET is set (credentials
# from the usual AWS_* variables; SIGNOFF_S3_ENDPOINT_URL for MinIO, Ceph, R2, ...).
_S3_BUCKET = os.environ.get("SIGNOFF_S3_BUCKET", "").strip()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # collectstatic (run by `signoff serve`) writes a .gz beside each file for WhiteNoise.
    "staticfiles": {"BACKEND": "signoff.core.static.CompressedStaticFiles"},
    "signoff": (
        {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": _S3_BUCKET,
                "endpoint_url": os.environ.get("SIGNOFF_S3_ENDPOINT_URL", "").strip() or None,
                "region_name": os.environ.get("SIGNOFF_S3_REGION", "").strip() or None,
                "file_overwrite": False,  # content-addressed: a name never changes content
                "default_acl": None,
                "querystring_auth": True,
            },
        }
        if _S3_BUCKET
        else {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(SIGNOFF_HOME / "files")},
        }
    ),
}
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:sign-in"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:sign-in"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True


# Production (SIGNOFF_PRODUCTION=1): no debug, a real secret, HTTPS only. `manage.py check
# --deploy` is clean with these (tests/test_deploy_check.py). Without the switch the dev
# defaults above stay as they are.
SIGNOFF_PRODUCTION = os.environ.get("SIGNOFF_PRODUCTION", "") == "1"
if SIGNOFF_PRODUCTION:
    DEBUG = False
    SECRET_KEY = os.environ.get("SIGNOFF_SECRET_KEY", "").strip()
    # A placeholder or short key refuses to start (signoff.config.secret_key says which rule).
    if (_problem := secret_key_problem(SECRET_KEY)) is not None:
        raise ImproperlyConfigured(_problem)
    SECURE_SSL_REDIRECT = os.environ.get("SIGNOFF_SSL_REDIRECT", "1") == "1"
    if os.environ.get("SIGNOFF_BEHIND_TLS_PROXY", "") == "1":
        # Only behind a proxy that sets X-Forwarded-Proto itself and strips it from clients.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SIGNOFF_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = [
        origin.strip()
        for origin in os.environ.get("SIGNOFF_CSRF_TRUSTED_ORIGINS", "").split(",")
        if origin.strip()
    ]


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

# Model providers (docs/providers.md). The builtin composer is the default: nothing leaves the
# machine unless SIGNOFF_PROVIDER says so. The SDKs read their own OPENAI_* / ANTHROPIC_* vars.
_PROVIDER_BACKENDS = {
    "builtin": "signoff.agents.providers.builtin.BuiltinProvider",
    "openai": "signoff.agents.providers.openai_provider.OpenAIProvider",
    "anthropic": "signoff.agents.providers.anthropic_provider.AnthropicProvider",
}
# Options every remote provider takes, set only when their variable is, so the providers'
# own defaults stay the single source (60 s per request, 2 transport retries, 2 re-prompts).
_PROVIDER_OPTION_VARS = {
    "timeout": ("SIGNOFF_PROVIDER_TIMEOUT", float),
    "max_retries": ("SIGNOFF_PROVIDER_MAX_RETRIES", int),
    "output_retries": ("SIGNOFF_OUTPUT_RETRIES", int),
}
# Any other option (response_format, strict, token_param, temperature, extra_body, ...) as
# JSON, for deployments that configure through the environment only.
_PROVIDER_OPTIONS = {
    **json.loads(os.environ.get("SIGNOFF_PROVIDER_OPTIONS", "").strip() or "{}"),
    **{
        option: cast(os.environ[var])
        for option, (var, cast) in _PROVIDER_OPTION_VARS.items()
        if os.environ.get(var, "").strip()
    },
}


def _provider_config(kind: str, model: str | None) -> dict:
    kind = kind.strip().lower() or "builtin"
    if kind not in _PROVIDER_BACKENDS:
        raise ImproperlyConfigured(
            f"Unknown provider {kind!r}; SIGNOFF_PROVIDER is one of {', '.join(_PROVIDER_BACKENDS)}"
        )
    if kind == "builtin":
        return {"BACKEND": _PROVIDER_BACKENDS[kind]}
    options = dict(_PROVIDER_OPTIONS)
    if model:
        options["model"] = model
    return {"BACKEND": _PROVIDER_BACKENDS[kind], "OPTIONS": options}


def _agent_providers(value: str) -> dict:
    """Parse SIGNOFF_AGENT_PROVIDERS: "copy_drafter=anthropic:MODEL,brief_parser=openai"."""
    aliases = {}
    for entry in filter(None, (part.strip() for part in value.split(","))):
        alias, sep, spec = entry.partition("=")
        if not sep or not alias.strip():
            raise ImproperlyConfigured(
                f"SIGNOFF_AGENT_PROVIDERS entry {entry!r} is not alias=provider[:model]"
            )
        kind, _, model = spec.partition(":")
        aliases[alias.strip()] = _provider_config(kind, model.strip() or SIGNOFF_MODEL)
    return aliases


SIGNOFF_PROVIDER = os.environ.get("SIGNOFF_PROVIDER", "").strip().lower() or "builtin"
SIGNOFF_MODEL = os.environ.get("SIGNOFF_MODEL", "").strip() or None
# Each agent asks for its own alias and falls back to "default" when it has none.
SIGNOFF_PROVIDERS = {
    "default": _provider_config(SIGNOFF_PROVIDER, SIGNOFF_MODEL),
    **_agent_providers(os.environ.get("SIGNOFF_AGENT_PROVIDERS", "")),
}


def _concurrency(value: str) -> dict[str, int]:
    """Parse SIGNOFF_CONCURRENCY: "8" (every remote provider) or "openai=8,anthropic=4".

    A bare number sets every remote provider; named entries override it, whatever the order.
    The builtin composer runs one at a time unless named (it is CPU-bound: threads add nothing).
    """
    remote = [kind for kind in _PROVIDER_BACKENDS if kind != "builtin"]
    limits: dict[str, int] = {}
    named: dict[str, int] = {}
    for entry in filter(None, (part.strip() for part in value.split(","))):
        kind, sep, number = entry.rpartition("=") if "=" in entry else ("", "", entry)
        kind = kind.strip().lower()
        if sep and kind not in _PROVIDER_BACKENDS:
            raise ImproperlyConfigured(
                f"SIGNOFF_CONCURRENCY entry {entry!r}: unknown provider {kind!r}; use "
                f"{', '.join(_PROVIDER_BACKENDS)} (e.g. openai=8,anthropic=4) or one number"
            )
        try:
            limit = int(number.strip())
        except ValueError:
            limit = 0
        if limit < 1:
            raise ImproperlyConfigured(
                f"SIGNOFF_CONCURRENCY entry {entry!r}: the limit must be a whole number of 1 "
                "or more (e.g. openai=8,anthropic=4, or 8 for every remote provider)"
            )
        if sep:
            named[kind] = limit
        else:
            limits |= dict.fromkeys(remote, limit)
    return limits | named


# Drafts in flight at once, per provider name; a provider not listed drafts 4 at a time
# (1 for builtin). See docs/providers.md.
SIGNOFF_CONCURRENCY = _concurrency(os.environ.get("SIGNOFF_CONCURRENCY", ""))
# Price per 1,000 tokens by model name, for the cost recorded with every version. Prices
# change; set them for the models you use: {"gpt-4o-mini": {"input_per_1k": 0.00015,
# "output_per_1k": 0.0006}}. A model without a price is recorded with cost 0, unpriced.
SIGNOFF_PRICES = json.loads(os.environ.get("SIGNOFF_PRICES", "").strip() or "{}")


def _whole_number(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise ImproperlyConfigured(f"{name} must be a whole number of 0 or more, got {raw!r}")
    return int(raw)


# Processes that draft and check with a local provider (the builtin composer): 0 means one per
# core, 1 keeps everything in this process. Runs with fewer packages than the minimum stay in
# one process: starting workers costs more than it saves there.
SIGNOFF_DRAFT_PROCESSES = _whole_number("SIGNOFF_DRAFT_PROCESSES", 0)
SIGNOFF_FORK_MIN_PACKAGES = _whole_number("SIGNOFF_FORK_MIN_PACKAGES", 200)
# The audit log (docs/workflow.md): a checkpoint event closes every this many events (0: none;
# at most 100,000), and `audit verify` spreads a large log over this many processes (0: one
# per core).
SIGNOFF_AUDIT_CHECKPOINT_EVERY = _whole_number("SIGNOFF_AUDIT_CHECKPOINT_EVERY", 10_000)
if SIGNOFF_AUDIT_CHECKPOINT_EVERY > 100_000:
    raise ImproperlyConfigured(
        f"SIGNOFF_AUDIT_CHECKPOINT_EVERY is at most 100000, got {SIGNOFF_AUDIT_CHECKPOINT_EVERY}"
    )
SIGNOFF_AUDIT_VERIFY_PROCESSES = _whole_number("SIGNOFF_AUDIT_VERIFY_PROCESSES", 0)
# Days a kickoff-notes parse (the notes as sent, and the parser's draft) is kept; the notes
# may name people. Older ones are deleted when someone next sends notes; 0 keeps them all.
# The audit log keeps each one's hash, who asked and what the parser answered.
SIGNOFF_NOTES_KEEP_DAYS = _whole_number("SIGNOFF_NOTES_KEEP_DAYS", 30)

# Days an API token works after it is issued (`signoff token issue --days N` overrides it, up to
# 366). A token also stops when revoked, or when its person leaves the workspace file.
SIGNOFF_TOKEN_DAYS = _whole_number("SIGNOFF_TOKEN_DAYS", 90)
# Sign-in throttling (signoff.web.throttle): this many failed sign-ins for one account, or from
# one address, within the last SIGNOFF_SIGNIN_PERIOD_MINUTES refuse the next with 429 and
# Retry-After, before any password is checked (0 turns a limit off). Unknown API tokens count
# per address alike.
SIGNOFF_SIGNIN_ACCOUNT_LIMIT = _whole_number("SIGNOFF_SIGNIN_ACCOUNT_LIMIT", 10)
SIGNOFF_SIGNIN_ADDRESS_LIMIT = _whole_number("SIGNOFF_SIGNIN_ADDRESS_LIMIT", 50)
SIGNOFF_SIGNIN_PERIOD_MINUTES = _whole_number("SIGNOFF_SIGNIN_PERIOD_MINUTES", 15)


# ---------------------------------------------------------------- image providers
# Image providers (docs/providers.md, "Image providers"; signoff.visuals.providers.registry).
# The builtin compositor is the default, so no packshot leaves the machine unless
# SIGNOFF_IMAGE_PROVIDER says so ("openai" or "openai:MODEL"). The model name is a setting,
# never code: OpenAI retires image models (gpt-image-1 was shut down in Oct 2026).
def _image_json(name: str) -> dict:
    raw = os.environ.get(name, "").strip() or "{}"
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(f"{name} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"{name} must be a JSON object, got {raw!r}")
    return value


SIGNOFF_IMAGE_PROVIDER = os.environ.get("SIGNOFF_IMAGE_PROVIDER", "").strip().lower() or "builtin"
# Empty: the provider's own default (gpt-image-2 for openai).
SIGNOFF_IMAGE_MODEL = os.environ.get("SIGNOFF_IMAGE_MODEL", "").strip()
# Any other provider option as JSON (base_url, api_key, timeout, max_retries, quality, ...).
SIGNOFF_IMAGE_PROVIDER_OPTIONS = _image_json("SIGNOFF_IMAGE_PROVIDER_OPTIONS")
# Price per image by model, then by "WxH" size sent (or "default"); an unpriced image costs 0
# and says so: {"gpt-image-2": {"per_image": {"1024x1024": 0.04, "default": 0.06}}}.
SIGNOFF_IMAGE_PRICES = _image_json("SIGNOFF_IMAGE_PRICES")
# The largest image decoded anywhere (uploads, provider answers): a 12,000 x 12,000 master fits,
# a decompression bomb does not.
SIGNOFF_IMAGE_MAX_PIXELS = _whole_number("SIGNOFF_IMAGE_MAX_PIXELS", 144_000_000)
# Image provider calls in flight at once (each holds several full-size images in memory); 0 is
# read as 1.
SIGNOFF_IMAGE_CONCURRENCY = max(1, _whole_number("SIGNOFF_IMAGE_CONCURRENCY", 2))
# Where a channel's images are published (a CDN or bucket URL): feeds write each image's URL as
# this followed by its file name. `signoff export --image-base-url` overrides it.
SIGNOFF_FEED_IMAGE_BASE_URL = os.environ.get("SIGNOFF_FEED_IMAGE_BASE_URL", "").strip() or None


# ---------------------------------------------------------------- delivery (signoff.outbox)
# How launches reach their destinations (README "Delivery"; docs/formats.md, destinations).
def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise ImproperlyConfigured(f"{name} must be a number of seconds, 0 or more; got {raw!r}")
    return value


# Attempts before a delivery that keeps failing in a retryable way (5xx, 429, timeouts,
# resets) is dead; a dead delivery waits for `signoff deliveries retry`.
SIGNOFF_DELIVERY_MAX_ATTEMPTS = max(1, _whole_number("SIGNOFF_DELIVERY_MAX_ATTEMPTS", 10))
# Backoff after failed attempt n: a uniform draw in [0, min(CAP, BASE * 2^(n-1))] seconds.
SIGNOFF_DELIVERY_BACKOFF_BASE = _seconds("SIGNOFF_DELIVERY_BACKOFF_BASE", 5.0)
SIGNOFF_DELIVERY_BACKOFF_CAP = _seconds("SIGNOFF_DELIVERY_BACKOFF_CAP", 900.0)
# A receiver's Retry-After (429, 503) is honoured up to this many seconds.
SIGNOFF_DELIVERY_RETRY_AFTER_MAX = _seconds("SIGNOFF_DELIVERY_RETRY_AFTER_MAX", 3600.0)
# Seconds to connect, and for each read of an answer (a webhook entry's `timeout` overrides).
SIGNOFF_DELIVERY_TIMEOUT = _seconds("SIGNOFF_DELIVERY_TIMEOUT", 15.0)
# Sends in flight at once per worker.
SIGNOFF_DELIVERY_CONCURRENCY = max(1, _whole_number("SIGNOFF_DELIVERY_CONCURRENCY", 8))
# How long a worker holds the deliveries it claimed: keep it over 3 x the longest timeout plus
# 5 s (never less is used with SIGNOFF_DELIVERY_TIMEOUT; a webhook's own `timeout` is at most
# 60 s). A worker that dies lets go when it runs out, and the next one sends them again.
SIGNOFF_DELIVERY_LEASE_SECONDS = _seconds("SIGNOFF_DELIVERY_LEASE_SECONDS", 200.0)
# How often an idle worker looks for deliveries that fell due.
SIGNOFF_DELIVERY_POLL_SECONDS = _seconds("SIGNOFF_DELIVERY_POLL_SECONDS", 1.0)


# ---------------------------------------------------------------- notifications (SLA reminders)
# E-mail goes through Django's SMTP backend, configured from the environment (README
# "Notifications"); without SIGNOFF_SMTP_HOST no e-mail is sent (the webhook still is).
EMAIL_BACKEND = os.environ.get(
    "SIGNOFF_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend"
)
EMAIL_HOST = os.environ.get("SIGNOFF_SMTP_HOST", "").strip() or "localhost"
EMAIL_PORT = _whole_number("SIGNOFF_SMTP_PORT", 25)
EMAIL_HOST_USER = os.environ.get("SIGNOFF_SMTP_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("SIGNOFF_SMTP_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("SIGNOFF_SMTP_STARTTLS", "") == "1"
EMAIL_USE_SSL = os.environ.get("SIGNOFF_SMTP_SSL", "") == "1"
EMAIL_TIMEOUT = _seconds("SIGNOFF_SMTP_TIMEOUT", 15.0)
DEFAULT_FROM_EMAIL = os.environ.get("SIGNOFF_EMAIL_FROM", "signoff@localhost")
SIGNOFF_NOTIFY_EMAIL = bool(os.environ.get("SIGNOFF_SMTP_HOST", "").strip())
# Seconds to connect to and hear from a notification webhook.
SIGNOFF_NOTIFY_TIMEOUT = _seconds("SIGNOFF_NOTIFY_TIMEOUT", 10.0)
# Sends tried per notification before it is left failed (each run tries once).
SIGNOFF_NOTIFY_MAX_ATTEMPTS = max(1, _whole_number("SIGNOFF_NOTIFY_MAX_ATTEMPTS", 5))
# How long a run holds a notification it claimed; a run that died lets go after this.
SIGNOFF_NOTIFY_LEASE_SECONDS = _seconds("SIGNOFF_NOTIFY_LEASE_SECONDS", 600.0)
# How often `signoff worker` (and so `signoff serve`) runs `signoff notify`; 0 turns it off.
SIGNOFF_NOTIFY_INTERVAL_SECONDS = _seconds("SIGNOFF_NOTIFY_INTERVAL_SECONDS", 300.0)
