"""The builtin composer's tables: leads, attribute keys, units and the words it treats apart."""

from __future__ import annotations

import re

LEADS = ("scent", "ritual", "benefit", "material")

# The order facts are told in, per lead: each variant reads differently from the first line.
ORDER = {
    "scent": ("scent", "size", "material", "burn", "vessel", "wick", "color", "extra", "claim"),
    "ritual": ("burn", "vessel", "scent", "size", "material", "wick", "color", "claim", "extra"),
    "benefit": ("claim", "material", "scent", "size", "burn", "vessel", "wick", "color", "extra"),
    "material": ("material", "vessel", "wick", "scent", "size", "burn", "color", "extra", "claim"),
}
# Channel tones map onto the three ways the composer writes.
TONE_STYLES = {"factual": "factual", "direct": "factual", "playful": "playful", "bold": "playful"}

# Attribute keys with a known meaning; any other key is quoted as "Label: value".
TYPE_KEYS = ("product_type", "type", "category")
MATERIAL_KEYS = ("wax", "material")
TOPIC_KEYS = {
    "scent": ("scent", "fragrance"),
    "size": ("size", "net_weight", "volume"),
    "wick": ("wick",),
    "vessel": ("vessel", "container"),
    "color": ("color", "colour"),
}
BURN_KEYS = ("burn_time_hours", "burn_time")
TOPIC_LABELS = {
    "scent": "Scent",
    "size": "Size",
    "wick": "Wick",
    "vessel": "Vessel",
    "color": "Color",
}
# A numeric attribute whose key ends in a unit ("weight_g": "340") reads "340 g".
UNIT_SUFFIXES = {
    "hours": "hours",
    "hrs": "hours",
    "minutes": "minutes",
    "days": "days",
    "g": "g",
    "kg": "kg",
    "ml": "ml",
    "oz": "oz",
    "lb": "lb",
    "cm": "cm",
    "mm": "mm",
    "count": "count",
}
NUMERIC = re.compile(r"^\d+(?:\.\d+)?$")
# Number words state a quantity the product data may not hold ("Six spring scents").
NUMBER_WORDS = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|dozen|half|single|double|"
    r"triple|twice|first)\b",
    re.IGNORECASE,
)
LIST_SPLIT = re.compile(r"\s*(?:,|&|\band\b|\bwith\b)\s*", re.IGNORECASE)
DIGITS = re.compile(r"\d+(?:[.,]\d+)?")
# Pictographs, markup and links never come through from product data.
EMOJI_AND_MARKUP = re.compile(
    "[<>\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\u3030\u303d\U0001f000-\U0001faff"
    "\ufe0f\u200d]|https?://\\S+|www\\.\\S+"
)
# What the spec check reads as a link or an e-mail address (a domain-like word is enough).
URLISH = re.compile(
    r"(?i)\b(?:https?://|www\.)"
    r"|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|co|shop|store|us|uk|biz|info)\b"
)
LIGHTABLE = frozenset({"candle", "votive", "tealight", "taper"})
# Wax describes the whole product only for these ("soy wax candle", not "soy wax set").
WAX_BODIES = LIGHTABLE | {"melt", "melts", "tart", "tarts", "pillar"}
# Too generic to search for or tag on their own.
GENERIC_NOUNS = frozenset({"set", "kit", "pack", "bundle", "box", "product", "item"})
STOP_WORDS = frozenset(
    "a an and are as at be by for from in into is it of on or so the to with".split()
)
UNIT_WORDS = frozenset("oz fl ml l g kg lb lbs cm mm in hour hours count".split())

# How many items a list field gets when its spec leaves room for more.
LIST_TARGETS = {"bullets": 5, "hashtags": 5, "headline": 10, "item_specifics": 12}
