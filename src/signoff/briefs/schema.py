"""The brief file format (see docs/formats.md), validated with pydantic."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, EmailStr, Field, field_validator

ContentType = Literal["ecommerce", "campaign", "social"]


def _colon_text(value: Any) -> Any:
    """Read ``- Label: more words`` back as the sentence the author wrote.

    Unquoted YAML turns a list item like ``The set reads as one campaign: same light`` into a
    one-key mapping; people write sentences that way, so it is accepted as text.
    """
    if isinstance(value, dict) and len(value) == 1:
        ((key, rest),) = value.items()
        if isinstance(key, str) and isinstance(rest, str | int | float):
            return f"{key}: {rest}"
    return value


Text = Annotated[str, BeforeValidator(_colon_text)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Price(_Strict):
    amount: Decimal = Field(max_digits=12)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")

    @field_validator("amount")
    @classmethod
    def _a_price(cls, value: Decimal) -> Decimal:
        # Worded as the products CSV words it: one message for one mistake, whatever the file.
        if value < 0:
            raise ValueError(f"expected a price of 0 or more, got {value}")
        if value != value.quantize(Decimal("0.01")):
            raise ValueError(f"expected at most 2 decimal places, got {value}")
        return value


class ProductEntry(_Strict):
    sku: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    name: str | None = Field(default=None, min_length=1)
    gtin: str | None = Field(default=None, pattern=r"^(\d{8}|\d{12}|\d{13}|\d{14})$")
    price: Price | None = None
    attributes: dict[str, str | int | float | bool] = {}
    claims: list[str] = []
    images: list[str] = []


class Budget(_Strict):
    """What drafting this brief may spend; a run stops cleanly when it is reached."""

    max_tokens: int | None = Field(default=None, gt=0)
    max_cost: float | None = Field(default=None, gt=0)  # in the price table's currency


class Reference(_Strict):
    kind: Literal["brand_example", "previous_winner", "negative", "competitor", "inspiration"]
    path: str | None = None
    note: str | None = None


class BriefFile(_Strict):
    brief: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1)
    workspace: str
    content_type: ContentType = "ecommerce"
    template: ContentType | None = None  # defaults to the content type
    owner: EmailStr | None = None
    deadline: datetime.date | None = None
    markets: list[str] = Field(default=["en-US"], min_length=1)
    channels: list[str] = Field(min_length=1)
    variants: int = Field(default=1, ge=1, le=26)
    audience: Text = ""
    hypothesis: Text = ""
    key_messages: list[Text] = []
    acceptance_criteria: list[Text] = []
    required_attributes: list[str] = []  # attributes every SKU must have on every channel
    budget: Budget | None = None
    channel_messages: dict[str, list[Text]] = {}  # key messages for one channel only
    data_requests: list[str] = []  # facts asked of the PIM owner ("SKU: GTIN")
    products: list[ProductEntry] = []
    references: list[Reference] = []

    @field_validator("brief")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value == "new":
            raise ValueError("'new' is reserved (the web app's new-brief page); choose another")
        return value

    @field_validator("markets")
    @classmethod
    def _locales(cls, value: list[str]) -> list[str]:
        for market in value:
            if not market or len(market) > 20:
                raise ValueError(f"market {market!r} should look like en-US")
        return value
