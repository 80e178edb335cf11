"""The brief parser's offline composer: free-text kickoff notes to a structured brief. Pure.

It reads what notes usually say (channels, scents or products, sizes, audience, tone,
variants, deadline, claims not to make, data still missing, past winners) and lists what it
could not determine as open questions. It never invents a SKU, a GTIN or a number: products
come from the PIM CSV (`signoff brief add --products`). Text that tries to instruct a model
is data: it is flagged as a finding and changes nothing.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from signoff.agents.checks.pii import check_pii_text
from signoff.agents.context import BrandRules, CheckFinding, ClaimStatus, Severity

# Words people use for a channel -> catalog id. Longer phrases first.
CHANNEL_WORDS: tuple[tuple[str, str], ...] = (
    (r"google\s+(?:shopping|merchant)", "google_merchant"),
    (r"google\s+ads|search\s+ads", "google_ads_rsa"),
    (r"target\s*plus|target\+", "target_plus"),
    (r"amazon", "amazon_us_pdp"),
    (r"walmart", "walmart_us"),
    (r"meta\s+ad|facebook\s+ad", "meta_feed_ad"),
    (r"instagram", "instagram_post"),
    (r"e-?mail|newsletter", "email_promo"),
    (r"poster|print", "print_poster_a2"),
    (r"ebay", "ebay_listing"),
)
NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
INJECTION = re.compile(
    r"ignore (?:all |any )?(?:previous|prior|above) instructions|disregard (?:the|all) "
    r"(?:rules|instructions)|approve (?:everything|all packages)|you are now|system prompt"
    r"|act as (?:an? )?(?:admin|approver)",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]|$)")
_SPEAKER = re.compile(r"^\s*[A-Z][a-z]+:\s*")


@dataclass
class ParsedBrief:
    brief: dict  # the brief file's keys, ready to write as YAML
    open_questions: list[str] = field(default_factory=list)
    findings: list[CheckFinding] = field(default_factory=list)
    mentioned_products: list[dict] = field(default_factory=list)  # name and size as said


def _sentences(text: str) -> list[str]:
    lines = [_SPEAKER.sub("", line) for line in text.splitlines()]
    joined = " ".join(line.strip() for line in lines if line.strip())
    return [s.strip() for s in _SENTENCE.findall(joined) if s.strip()]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "brief"


def _title(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else "Brief"
    title = re.split(r"\s+[—–-]\s+", first, maxsplit=1)[-1]
    title = title.split(",")[0].strip()
    return title[:1].upper() + title[1:]


def _channels(text: str) -> list[str]:
    found: list[tuple[int, str]] = []
    for pattern, channel_id in CHANNEL_WORDS:
        match = re.search(rf"\b(?:{pattern})\b", text, re.IGNORECASE)
        if match and channel_id not in [c for _, c in found]:
            found.append((match.start(), channel_id))
    return [c for _, c in sorted(found)]


def _products(sentences: list[str]) -> list[dict]:
    """Read "launching six spring scents, lavender, ..., and rhubarb" and the sizes said."""
    names: list[str] = []
    for sentence in sentences:
        match = re.search(
            r"launch\w*\s+(?:\w+\s+){0,3}?(?:scents|products|flavou?rs|shades|"
            r"colou?rs|items)\W+(.+)",
            sentence,
            re.IGNORECASE,
        )
        if match:
            listed = re.split(r",\s*|\s+and\s+", match.group(1).rstrip(". "))
            names = [n.strip().lower() for n in listed if n.strip()]
            break
    products = [{"name": name} for name in names]
    for sentence in sentences:
        sizes = list(re.finditer(r"(\d+(?:\.\d+)?)\s?(oz|ml|g|lb)\b", sentence, re.IGNORECASE))
        if not sizes:
            continue
        for product in products:
            if re.search(rf"\b{re.escape(product['name'])}\b", sentence, re.IGNORECASE):
                product["size"] = f"{sizes[0].group(1)} {sizes[0].group(2).lower()}"
        rest = re.search(
            r"\b(?:rest|others|the other ones)\s+(?:are|is)\s+(\d+)\s?(oz|ml|g)",
            sentence,
            re.IGNORECASE,
        )
        if rest:
            for product in products:
                product.setdefault("size", f"{rest.group(1)} {rest.group(2).lower()}")
    return products


def _deadline(sentences: list[str], today: datetime.date) -> tuple[str | None, str | None]:
    for sentence in sentences:
        if not re.search(r"deadline|due|launch date", sentence, re.IGNORECASE):
            continue
        match = re.search(r"\b([A-Z][a-z]{2})[a-z]*\.?\s+(\d{1,2})(?:,?\s+(\d{4}))?", sentence)
        if match and match.group(1).lower() in MONTHS:
            month, day = MONTHS[match.group(1).lower()], int(match.group(2))
            if match.group(3):
                return datetime.date(int(match.group(3)), month, day).isoformat(), None
            year = today.year + (1 if (month, day) < (today.month, today.day) else 0)
            assumed = datetime.date(year, month, day)
            return assumed.isoformat(), f"deadline year not given: assumed {year}"
    return None, None


def parse_kickoff_notes(
    text: str, *, workspace: str, rules: BrandRules, today: datetime.date
) -> ParsedBrief:
    """Return a brief to review and complete, the open questions, and any findings."""
    sentences = _sentences(text)
    name = _title(text)
    brief: dict = {
        "brief": _slug(name),
        "name": name,
        "workspace": workspace,
        "content_type": "ecommerce",
        "markets": ["en-US"],
    }
    questions: list[str] = []
    channels = _channels(text)
    if channels:
        brief["channels"] = channels
    else:
        questions.append("which channels? none was named")
    variants = re.search(r"\b(\w+)\s+(?:version|variant)s?\s+each\b", text, re.IGNORECASE)
    if variants and (variants.group(1).lower() in NUMBERS or variants.group(1).isdigit()):
        word = variants.group(1).lower()
        brief["variants"] = NUMBERS.get(word) or int(word)
    for sentence in sentences:
        audience = re.search(r"\baudience (?:is|are)\s+(.+)", sentence, re.IGNORECASE)
        if audience:
            brief["audience"] = audience.group(1).rstrip(".").strip()
    if "audience" not in brief:
        questions.append("who is the audience?")
    criteria = []
    messages = []
    for sentence in sentences:
        tone = re.match(r"tone\s+(.+)", sentence, re.IGNORECASE)
        if tone:
            criteria.append(f"Tone: {tone.group(1).rstrip('.')}.")
        avoid = re.search(
            r"\b(?:don't|do not|never)\s+(?:say|claim|use)\s+(.+?)(?:\s+yet)?"
            r"(?:,|\.|$)",
            sentence,
            re.IGNORECASE,
        )
        if avoid:
            criteria.append(f'Do not claim "{avoid.group(1).strip()}" ({sentence.strip()})')
    approved = [c for c in rules.claims if c.status is ClaimStatus.APPROVED and c.text]
    said = [c for c in approved if c.id in text.lower() or (c.text or "").lower() in text.lower()]
    if said:
        sentence = "; ".join(c.text for c in said if c.text)
        messages.append(sentence[:1].upper() + sentence[1:] + ".")
    if criteria:
        brief["acceptance_criteria"] = criteria
    if messages:
        brief["key_messages"] = messages
    references = [
        {"kind": "previous_winner", "note": s}
        for s in sentences
        if re.search(r"did (?:really )?well|performed|lifted|winner|worked", s, re.IGNORECASE)
    ]
    if references:
        brief["references"] = references
    deadline, assumption = _deadline(sentences, today)
    if deadline:
        brief["deadline"] = deadline
    else:
        questions.append("what is the deadline?")
    if assumption:
        questions.append(assumption)
    questions += [
        f"product data: {s}"
        for s in sentences
        if re.search(r"missing|not confirmed|isn't confirmed|unknown|tbd", s, re.IGNORECASE)
    ]
    products = _products(sentences)
    if products:
        questions.append(
            "SKUs, GTINs and prices for: "
            + ", ".join(p["name"] for p in products)
            + " (add them with --products from the PIM export)"
        )
    brief["products"] = []
    findings = [
        CheckFinding(
            agent="brief_parser",
            rule_id="input.injection",
            severity=Severity.BLOCK,
            field="notes",
            span=(m.start(), m.end()),
            message=f"the notes try to instruct the system ({m.group(0)!r}); "
            "treated as text, nothing was changed",
        )
        for m in INJECTION.finditer(text)
    ]
    findings += check_pii_text("notes", text)
    return ParsedBrief(brief, questions, findings, products)
