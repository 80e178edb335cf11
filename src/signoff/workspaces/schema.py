"""The workspace file format (see docs/formats.md), validated with pydantic."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    field_validator,
    model_validator,
)
from typing_extensions import TypedDict

from signoff.core.naming import naming_problem

ROLES = ("content_lead", "compliance", "brand_manager", "operator", "admin", "cmo", "ceo")
Role = Literal["content_lead", "compliance", "brand_manager", "operator", "admin", "cmo", "ceo"]
ClaimStatusName = Literal["approved", "pending", "needs_substantiation", "forbidden", "withdrawn"]
SeverityName = Literal["info", "warn", "block"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Voice(_Strict):
    description: str = ""
    tone: dict[str, str] = {}  # {"default": "calm", "<channel_id>": "playful"}
    max_sentence_words: int | None = Field(default=None, ge=3)
    forbid_exclamation: bool = False


class TermRule(_Strict):
    use: str = Field(min_length=1)
    avoid: list[str] = Field(min_length=1)


class BannedRule(_Strict):
    phrase: str = Field(min_length=1)
    suggest: str | None = None
    reason: str | None = None


class Brand(_Strict):
    voice: Voice = Voice()
    terminology: list[TermRule] = []
    banned: list[BannedRule] = []
    palette: list[str] = []
    fonts: dict[str, str] = {}
    # How every rendition, export and delivered image file is named; the fields are
    # brand, sku, channel, slot, version, image, width, height, ext (signoff.core.naming).
    file_naming: str = "{brand}_{sku}_{channel}_{slot}_v{version}.{ext}"

    @field_validator("palette")
    @classmethod
    def _hex_colours(cls, value: list[str]) -> list[str]:
        for colour in value:
            if not re.fullmatch(r"#[0-9A-Fa-f]{6}", colour):
                raise ValueError(f"palette colour {colour!r} is not of the form #RRGGBB")
        return value

    @field_validator("file_naming")
    @classmethod
    def _known_fields(cls, value: str) -> str:
        problem = naming_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class ClaimEntry(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    text: str | None = None
    pattern: str | None = None
    status: ClaimStatusName
    evidence: str | None = None
    reason: str | None = None

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _detectable(self) -> ClaimEntry:
        if not self.text and not self.pattern:
            raise ValueError("a claim needs a text or a pattern to be detected by")
        return self


class PersonEntry(_Strict):
    email: EmailStr
    name: str = Field(min_length=1)
    roles: list[Role] = []
    # The daily e-mail of what waits on this person's gates (signoff.notifications): true or
    # false sets it; left out, the person's own choice (`signoff digest on`) stands.
    digest: bool | None = None


class WorkflowSettings(_Strict):
    """One template's gate settings: which gate ids and owners are valid depends on the template,
    so :func:`signoff.workflow.settings_problems` checks them, at load, with their lines."""

    sla_hours: dict[str, float] = {}
    owners: dict[str, str] = {}
    # One person may approve two gates of the same version (separation of duties relaxed);
    # each such approval's event records that this setting allowed it.
    allow_same_person_two_gates: bool = False


class Policies(_Strict):
    """Workspace-wide policies (docs/formats.md, ``policies:``)."""

    # Who a one-click suggested fix is recorded as made by. ``checker`` (the default): the
    # check that suggested it; the reviewer who accepted it verbatim stays a checker and may
    # still approve. ``person``: the reviewer, as for any edit (maker-checker then applies).
    # Free edits are always the editor's.
    accepted_suggestion_authorship: Literal["checker", "person"] = "checker"
    # Packages scoring under this confidence carry a "needs a careful read" reason on the
    # board, the package page, the API and the CLI (signoff.packages.confidence); 0 turns it off.
    careful_read_below: int = Field(default=60, ge=0, le=100)


def _builtin_only(spec: str) -> str:
    # The enricher's proposals are accepted by id and computed again on acceptance, so they
    # must come out the same each time: a model's would not (signoff.agents.enricher).
    if spec.partition(":")[0].strip() != "builtin":
        raise ValueError(
            f"the brief enricher runs builtin only, not {spec!r} (its proposals are accepted "
            "by id, so they must come out the same each time); remove it or say 'builtin'"
        )
    return spec


class AgentProviders(TypedDict, total=False):
    """Which provider and model each agent uses here: {"copy_drafter": "anthropic:MODEL"}."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    copy_drafter: str
    brief_parser: str
    brief_enricher: Annotated[str, AfterValidator(_builtin_only)]


def _http_url(value: str) -> str:
    scheme, sep, rest = value.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not rest.split("/")[0]:
        raise ValueError(f"{value!r} is not an http(s) URL; write it as https://host/path")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]
# A name a delivery is recorded under; it appears in CLI output, the API and file names.
DestinationName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=100)]
EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=200)]


class _Destination(_Strict):
    name: DestinationName
    channel: str = Field(min_length=1)
    # Where the images a document names are served from: each image's URL is this followed by
    # its file name. Without it, images go by file name and SHA-256 only.
    image_base_url: HttpUrl | None = None


class FolderDestination(_Destination):
    """Write the channel's feed, and its images, into a folder (atomically)."""

    kind: Literal["folder"]
    path: str = Field(min_length=1)  # relative paths are read from the workspace file's folder
    format: str = Field("json", min_length=1)  # a feed format id (signoff export --format)


class WebhookDestination(_Destination):
    """POST one signed JSON document per package."""

    kind: Literal["webhook"]
    url: HttpUrl
    secret_env: EnvName  # the environment variable holding the HMAC secret; never the secret
    timeout: float | None = Field(None, gt=0, le=60)  # seconds; SIGNOFF_DELIVERY_TIMEOUT else


class _ApiDestination(_Destination):
    # The API's base URL, only so tests can point a connector at a server on loopback; a real
    # destination leaves it out and gets the service's own address.
    endpoint: HttpUrl | None = None
    timeout: float | None = Field(None, gt=0, le=60)  # seconds; SIGNOFF_DELIVERY_TIMEOUT else


class ShopifyDestination(_ApiDestination):
    """Upsert one product per package with the Admin GraphQL ``productSet`` mutation."""

    kind: Literal["shopify"]
    shop: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
    token_env: EnvName  # holds the Admin API access token (X-Shopify-Access-Token)
    api_version: str = Field("2026-01", pattern=r"^\d{4}-(01|04|07|10)$")


class AmazonDestination(_ApiDestination):
    """Put one listing per package with SP-API Listings Items (``putListingsItem``)."""

    kind: Literal["amazon"]
    seller_id: str = Field(pattern=r"^[A-Z0-9]{5,20}$")
    marketplace_id: str = Field(pattern=r"^[A-Z0-9]{5,20}$")
    region: Literal["na", "eu", "fe"]
    # The Login with Amazon (LWA) app credentials and the seller's refresh token.
    lwa_client_id_env: EnvName
    lwa_client_secret_env: EnvName
    refresh_token_env: EnvName
    # VALIDATION_PREVIEW: Amazon checks each listing and saves nothing.
    dry_run: bool = False
    token_endpoint: HttpUrl | None = None  # the LWA token URL, for tests only (as endpoint)


class GoogleMerchantDestination(_ApiDestination):
    """Insert one product input per package with the Merchant API (products v1)."""

    kind: Literal["google_merchant"]
    account: str = Field(pattern=r"^[0-9]{1,20}$")
    data_source: str = Field(pattern=r"^accounts/[0-9]{1,20}/dataSources/[0-9]{1,20}$")
    # Either a short-lived OAuth 2.0 access token (scope .../auth/content) that the deployment
    # keeps fresh, or the OAuth client and a user's refresh token, so Signoff renews it itself.
    token_env: EnvName | None = None
    client_id_env: EnvName | None = None
    client_secret_env: EnvName | None = None
    refresh_token_env: EnvName | None = None
    token_endpoint: HttpUrl | None = None  # Google's OAuth token URL, for tests only

    @model_validator(mode="after")
    def _one_way_to_a_token(self) -> GoogleMerchantDestination:
        refresh = {
            "client_id_env": self.client_id_env,
            "client_secret_env": self.client_secret_env,
            "refresh_token_env": self.refresh_token_env,
        }
        named = [key for key, value in refresh.items() if value]
        if self.token_env and named:
            raise ValueError(
                f"token_env and {', '.join(named)} both given; name either token_env (an "
                "access token kept fresh elsewhere) or client_id_env, client_secret_env and "
                "refresh_token_env (Signoff renews the token), not both"
            )
        if not self.token_env and len(named) < len(refresh):
            missing = [key for key in refresh if key not in named]
            raise ValueError(
                f"no way to get an access token: {', '.join(missing)} missing; name "
                "client_id_env, client_secret_env and refresh_token_env, or token_env"
            )
        return self

    @model_validator(mode="after")
    def _same_account(self) -> GoogleMerchantDestination:
        if not self.data_source.startswith(f"accounts/{self.account}/"):
            raise ValueError(
                f"data_source {self.data_source!r} is not a data source of account "
                f"{self.account!r}; write it as accounts/{self.account}/dataSources/ID"
            )
        return self


# Every kind the file accepts. A new connector adds its entry model here (and its connector
# in signoff.outbox.connectors).
DESTINATION_KINDS = {
    "folder": FolderDestination,
    "webhook": WebhookDestination,
    "shopify": ShopifyDestination,
    "amazon": AmazonDestination,
    "google_merchant": GoogleMerchantDestination,
}


def _known_kind(value: object) -> object:
    if isinstance(value, dict) and value.get("kind") not in DESTINATION_KINDS:
        kind = value.get("kind")
        said = f"unknown destination kind {kind!r}" if kind is not None else "no kind"
        raise ValueError(f"{said}; expected one of {', '.join(DESTINATION_KINDS)}")
    return value


DestinationEntry = Annotated[
    FolderDestination
    | WebhookDestination
    | ShopifyDestination
    | AmazonDestination
    | GoogleMerchantDestination,
    Field(discriminator="kind"),
    BeforeValidator(_known_kind),
]


class Escalation(_Strict):
    """Who else hears of a package waiting at a gate, and after how many hours."""

    contact: EmailStr  # one of the workspace's people
    after_hours: float = Field(gt=0)  # longer than the gate's SLA (checked at load)


class NotificationSettings(_Strict):
    """SLA reminders, escalations and digests (signoff.notifications; docs/notifications.md).
    Which templates, gates and people are valid is checked at load, with their lines."""

    # The environment variable holding a Slack-compatible incoming webhook URL; never the URL.
    webhook_env: EnvName | None = None
    escalation: dict[str, dict[str, Escalation]] = {}  # template -> gate -> escalation
    digest_hour: int = Field(8, ge=0, le=23)  # UTC hour from which the daily digest goes out


class MetricsSettings(_Strict):
    # What one package took by hand before Signoff: `signoff metrics` counts shipped
    # packages x this as hours saved.
    manual_hours_per_package: float | None = Field(None, gt=0, le=1000)


class WorkspaceFile(_Strict):
    workspace: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1)
    locale: str = "en-US"
    brand: Brand = Brand()
    claims: list[ClaimEntry] = []
    claim_policy: dict[ClaimStatusName, SeverityName] = {}
    people: list[PersonEntry] = []
    channels: list[str] = []
    channel_overrides: dict[str, dict[str, Any]] = {}
    workflows: dict[str, WorkflowSettings] = {}  # template name -> settings; see above
    policies: Policies = Policies()
    providers: AgentProviders = {}
    # Where each channel's launches are delivered (signoff.outbox); credentials come from
    # environment variables the entries name, never from the file.
    destinations: list[DestinationEntry] = []
    notifications: NotificationSettings = NotificationSettings()
    metrics: MetricsSettings = MetricsSettings()

    @field_validator("providers")
    @classmethod
    def _known_providers(cls, value: dict[str, str]) -> dict[str, str]:
        for agent, spec in value.items():
            kind = spec.partition(":")[0]
            if kind not in ("builtin", "openai", "anthropic"):
                raise ValueError(
                    f"{agent}: unknown provider {kind!r}; use builtin, openai:MODEL or "
                    "anthropic:MODEL"
                )
        return value
