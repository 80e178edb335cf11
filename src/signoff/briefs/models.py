"""Briefs, their immutable versions, and the product facts each version carries."""

from pathlib import Path

from django.db import models

from signoff.agents.checks._text import remember
from signoff.agents.context import BriefFacts, ProductFacts
from signoff.agents.guard import Screen, screen_brief
from signoff.workspaces.models import Workspace

# A version is immutable, so its screen is too: keyed by its id and content hash.
_SCREENS: dict[tuple[int | None, str], Screen] = {}


class Brief(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="briefs")
    slug = models.SlugField(max_length=100)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=30)  # ecommerce | campaign | social
    template = models.CharField(max_length=30)  # the workflow template; fixed once G1 passes
    owner = models.EmailField(blank=True)
    # The brief's own position in the workflow: it waits on G1 at S1.
    stage = models.CharField(max_length=20, default="S1")
    state = models.CharField(max_length=20, default="in_review")
    # The version G1 locked: drafting uses it; a later version needs G1 again.
    approved_version = models.ForeignKey(
        "BriefVersion", null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "slug"], name="brief_unique_slug")
        ]

    def __str__(self) -> str:
        return self.slug

    def latest_version(self) -> "BriefVersion":
        return self.versions.order_by("-number").first()

    @property
    def position(self) -> str:
        return f"{self.stage}/{self.state}"


class BriefVersion(models.Model):
    """One immutable snapshot of a brief as the user gave it."""

    brief = models.ForeignKey(Brief, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    data = models.JSONField()  # the validated brief, without its products
    source_path = models.CharField(max_length=1000, blank=True)
    base_dir = models.CharField(max_length=1000, blank=True)  # where relative image paths start
    content_hash = models.CharField(max_length=64)
    added_by = models.CharField(max_length=254, blank=True)  # a person's email or "system:cli"
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brief", "number"], name="brief_version_unique")
        ]
        ordering = ["brief", "number"]

    def __str__(self) -> str:
        return f"{self.brief.slug} v{self.number}"

    def screen(self) -> Screen:
        """What the input guard found in this version's texts and what drafters may see."""
        key = (self.pk, self.content_hash)
        found = _SCREENS.get(key)
        if found is None:
            products = [p.as_input() for p in self.products.all()]
            source = Path(self.source_path).name if self.source_path else "the brief"
            sources = {"brief": source, "csv": "the products CSV"}
            found = remember(_SCREENS, key, screen_brief(self.data, products, sources=sources), 256)
        return found

    def _texts(self, key: str) -> tuple[str, ...]:
        screen = self.screen()
        texts = (screen.text(f"{key}[{i}]", t) for i, t in enumerate(self.data.get(key) or []))
        return tuple(t for t in texts if t)

    def facts(self) -> BriefFacts:
        """Return what a drafter may use from this version: its texts as the input guard left
        them (no sentence that instructs the system, no personal data)."""
        screen = self.screen()
        return BriefFacts(
            name=screen.text("name", self.data["name"]) or self.brief.slug,
            audience=screen.text("audience", self.data.get("audience", "")),
            key_messages=self._texts("key_messages"),
            acceptance_criteria=self._texts("acceptance_criteria"),
            markets=tuple(self.data["markets"]),
        )

    def channel_messages(self) -> dict[str, list[str]]:
        """The brief's per-channel key messages, screened like ``facts()``."""
        screen = self.screen()
        out: dict[str, list[str]] = {}
        for channel, messages in (self.data.get("channel_messages") or {}).items():
            texts = (
                screen.text(f"channel_messages.{channel}[{i}]", m) for i, m in enumerate(messages)
            )
            out[channel] = [t for t in texts if t]
        return out


class Product(models.Model):
    """A SKU's facts as one brief version gives them (from the brief file, a PIM CSV, or both)."""

    brief_version = models.ForeignKey(
        BriefVersion, on_delete=models.CASCADE, related_name="products"
    )
    sku = models.CharField(max_length=100)
    name = models.CharField(max_length=300)
    gtin = models.CharField(max_length=14, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    attributes = models.JSONField(default=dict)
    claims = models.JSONField(default=list)  # claim ids
    images = models.JSONField(default=list)  # paths relative to the brief version's base_dir
    field_sources = models.JSONField(default=dict)  # {field: "brief" | "csv"}
    position = models.PositiveIntegerField(default=0)  # order in the brief

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brief_version", "sku"], name="product_unique_sku")
        ]
        ordering = ["brief_version", "position"]

    def __str__(self) -> str:
        return self.sku

    def as_input(self) -> dict:
        """The product as the input guard reads it (plain values)."""
        return {
            "sku": self.sku,
            "name": self.name,
            "gtin": self.gtin,
            "price": self.price,
            "attributes": self.attributes,
            "field_sources": self.field_sources,
        }

    def facts(self) -> ProductFacts:
        """The product as drafters and checks see it: texts as the input guard left them (an
        attribute that was all instruction or personal data is left out)."""
        screen = self.brief_version.screen()
        where = f"products[{self.sku}]"
        attributes = {
            k: screen.text(f"{where}.attributes.{k}", str(v)) for k, v in self.attributes.items()
        }
        return ProductFacts(
            sku=self.sku,
            name=screen.text(f"{where}.name", self.name) or self.sku,
            gtin=self.gtin or None,
            price=self.price,
            currency=self.currency,
            attributes={k: v for k, v in attributes.items() if v},
            claims=tuple(self.claims),
            images=tuple(self.images),
        )


class BriefApproval(models.Model):
    """A G1 decision on one brief version, by a person who held the gate's role then."""

    brief_version = models.ForeignKey(
        BriefVersion, on_delete=models.CASCADE, related_name="approvals"
    )
    person = models.EmailField()
    gate = models.CharField(max_length=20, default="G1")
    content_hash = models.CharField(max_length=64)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["brief_version", "gate"], name="brief_gate_once")
        ]


class NotesParse(models.Model):
    """Kickoff notes a person asked the brief parser to read, and what it made of them.

    A model reads the notes in a task, never inside the request that asked: the intake screen
    polls this row and the API returns it. Nothing here is a brief; its draft is added like
    any upload, once a person has reviewed it.
    """

    class Status(models.TextChoices):
        QUEUED = "queued"  # waiting for a worker
        RUNNING = "running"  # a worker is reading the notes
        DONE = "done"  # ``draft`` holds the proposed brief
        REFUSED = "refused"  # the model gave no valid brief; ``reason`` says why
        FAILED = "failed"  # the task stopped on an error; ``reason`` says which

    FINISHED = frozenset({Status.DONE, Status.REFUSED, Status.FAILED})

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    requested_by = models.EmailField()  # the person who asked; only they see the result
    notes = models.TextField()
    notes_hash = models.CharField(max_length=64)  # sha256 of the notes, as the audit records it
    today = models.DateField()  # the date the notes are read against (a deadline's year)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    # yaml, brief, open_questions, findings, mentioned_products (see briefs.notes.draft_of)
    draft = models.JSONField(default=dict)
    reason = models.TextField(blank=True)
    origin = models.JSONField(default=dict)  # agent, provider, model, tokens, cost, latency
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["workspace", "requested_by"], name="notes_parse_person")]

    def __str__(self) -> str:
        return f"notes parse {self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED
