"""Reviewing a proposed brief as a form (not YAML), with its packshots and reference images.

The brief parser proposes a brief from kickoff notes (``briefs.notes.draft_of``); the person
reviews it field by field here. The form becomes the brief file (``brief_from_form``) and goes
through the same ``add_brief`` as an upload, with the images in the same transaction
(``intake.add_uploaded_brief``). Pure where it can be: the form and the file building import
no service.
"""

from __future__ import annotations

import datetime
import re
from pathlib import PurePath

from django import forms

from signoff.core import labels
from signoff.core.errors import Problem
from signoff.visuals.models import Reference

MAX_IMAGE = 20 * 1024 * 1024  # bytes per image file
MAX_IMAGES = 20  # files per brief, packshots and references together
REFERENCE_KINDS = [(k, label) for k, label in Reference.Kind.choices if k != "packshot"]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input (Django's documented pattern)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: object, initial: object = None) -> list:
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ProposalForm(forms.Form):
    """The proposed brief, one control per field people decide on."""

    slug = forms.SlugField(label="Brief id", max_length=100, help_text="lowercase-with-dashes")
    name = forms.CharField(max_length=200)
    content_type = forms.ChoiceField(
        label="Content type",
        choices=[("ecommerce", "E-commerce"), ("campaign", "Campaign"), ("social", "Social")],
    )
    channels = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)
    markets = forms.CharField(
        max_length=200, initial="en-US", help_text="Locales, comma-separated: en-US, en-GB"
    )
    variants = forms.IntegerField(min_value=1, max_value=26, initial=1)
    deadline = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    audience = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    hypothesis = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    key_messages = forms.CharField(
        label="Key messages (one a line)", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    acceptance_criteria = forms.CharField(
        label="Acceptance criteria (one a line)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    products = forms.CharField(
        label="Products (one a line: SKU, name, GTIN)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Or leave empty and upload the PIM CSV; SKUs and GTINs are never invented.",
    )
    products_csv = forms.FileField(label="Products CSV (PIM export)", required=False)
    packshots = MultipleFileField(
        label="Packshots", required=False, help_text="Each file's name starts with its SKU."
    )
    references = MultipleFileField(label="Reference images", required=False)
    reference_kind = forms.ChoiceField(
        label="The reference images are", choices=REFERENCE_KINDS, initial="brand_example"
    )
    reference_note = forms.CharField(label="Reference note", required=False, max_length=500)
    other = forms.CharField(required=False, widget=forms.HiddenInput)  # kept proposal keys

    def __init__(self, *args: object, channels: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        names = labels.channel_names()
        self.fields["channels"].choices = [(c, labels.channel_label(c, names)) for c in channels]

    def clean(self) -> dict:
        data = super().clean()
        images = [*data.get("packshots", []), *data.get("references", [])]
        if len(images) > MAX_IMAGES:
            self.add_error(None, f"At most {MAX_IMAGES} images with one brief.")
        for upload in images:
            if upload.size > MAX_IMAGE:
                self.add_error(None, f"{PurePath(upload.name).name} is bigger than 20 MB.")
        if not _lines(data.get("products", "")) and not data.get("products_csv"):
            self.add_error("products", "Give the products (one a line) or the PIM CSV.")
        return data


def initial_from_proposal(brief: dict) -> dict:
    """The form's initial values from a proposed brief (the parser's or a person's)."""
    products = [
        ", ".join(str(p.get(k) or "") for k in ("sku", "name", "gtin")).rstrip(", ")
        for p in brief.get("products", [])
        if p.get("sku")
    ]
    return {
        "slug": brief.get("brief", ""),
        "name": brief.get("name", ""),
        "content_type": brief.get("content_type", "ecommerce"),
        "channels": list(brief.get("channels", [])),
        "markets": ", ".join(brief.get("markets", ["en-US"])),
        "variants": brief.get("variants", 1),
        "deadline": brief.get("deadline") or None,
        "audience": brief.get("audience", ""),
        "hypothesis": brief.get("hypothesis", ""),
        "key_messages": "\n".join(brief.get("key_messages", [])),
        "acceptance_criteria": "\n".join(brief.get("acceptance_criteria", [])),
        "products": "\n".join(products),
    }


def _product(line: str, number: int) -> tuple[dict, list[Problem]]:
    parts = [p.strip() for p in line.split(",")]
    entry: dict = {"sku": parts[0]}
    if len(parts) > 1 and parts[1]:
        entry["name"] = parts[1]
    if len(parts) > 2 and parts[2]:
        entry["gtin"] = re.sub(r"\s+", "", parts[2])
    problems = []
    if len(parts) > 3:
        problems.append(
            Problem(
                f"line {number}: expected SKU, name, GTIN; got {len(parts)} parts", field="products"
            )
        )
    return entry, problems


def brief_from_form(data: dict, *, workspace: str, owner: str, notes_references: list) -> dict:
    """The brief file (as a dict) the reviewed form says; ``add_brief`` validates it."""
    brief: dict = {
        "brief": data["slug"],
        "name": data["name"],
        "workspace": workspace,
        "content_type": data["content_type"],
        "owner": owner,
        "markets": [m.strip() for m in data["markets"].split(",") if m.strip()] or ["en-US"],
        "channels": list(data["channels"]),
        "variants": data["variants"],
    }
    for key in ("audience", "hypothesis"):
        if (data.get(key) or "").strip():
            brief[key] = data[key].strip()
    for key in ("key_messages", "acceptance_criteria"):
        if _lines(data.get(key, "")):
            brief[key] = _lines(data[key])
    if isinstance(data.get("deadline"), datetime.date):
        brief["deadline"] = data["deadline"].isoformat()
    products = []
    for i, line in enumerate(_lines(data.get("products", "")), start=1):
        entry, _ = _product(line, i)
        products.append(entry)
    if products:
        brief["products"] = products
    if notes_references:
        brief["references"] = list(notes_references)
    return brief


def product_problems(text: str) -> list[Problem]:
    problems: list[Problem] = []
    for i, line in enumerate(_lines(text), start=1):
        problems += _product(line, i)[1]
    return problems


def packshot_sku(filename: str, skus: list[str]) -> str | None:
    """The SKU a packshot's file name starts with (the longest that fits), or None."""
    stem = PurePath(filename).name.lower()
    fitting = [s for s in skus if stem.startswith(s.lower())]
    return max(fitting, key=len) if fitting else None
