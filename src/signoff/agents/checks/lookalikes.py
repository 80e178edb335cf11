"""Ordinary copy that looks like personal data or an instruction to the input guard. Pure.

The guard (``agents.guard``) and the output checks read briefs and copy with patterns; these
are the second looks that tell a person from a product phrase ("Contact Lens Safe"), a street
from a measure ("20 Piece Place Setting"), a shared mailbox from a person's ("hello@"), and a
role handed to a model from a greeting to a shopper ("you are now ready for the trail"). And
the other way round: text that hides an instruction behind look-alike letters or invisible
characters (``fold``), and attribute names that say their value is personal.
"""

from __future__ import annotations

import re
import unicodedata

# What makes "you are now ..." an instruction rather than copy ("you are now ready for the
# trail"): a new role or persona, a special mode, freedom from rules. Matched after the words
# "you are now" and the space that follows them (the input guard and the output checks).
PERSONA_SWITCH = (
    r"(?:(?:a|an|the|my|our|your)\s+(?:[\w-]+\s+){0,3}?(?:assistant|ai|bot|chatbot|model|llm"
    r"|approver|admin|administrator|system|developer|operator|reviewer|moderator|agent|persona"
    r"|character|superuser|root|copywriter)\b"
    r"|in\s+(?:[\w-]+\s+){0,2}?(?:developer|dev|admin|god|debug|jailbreak|jailbroken|unrestricted"
    r"|unfiltered|uncensored|maintenance|test|testing|sudo|root|dan|evil)\s+mode\b"
    r"|dan\b|(?:an?\s+)?(?:unrestricted|unfiltered|uncensored|jailbroken)\b"
    r"|(?:acting|playing|operating|responding|speaking)\s+as\b|known\s+as\b|named\b"
    r"|(?:no\s+longer|not)\s+(?:bound|restricted|limited)\b"
    r"|freed?\s+from\s+(?:all\s+|any\s+|your\s+)?(?:rules|restrictions|guidelines|instructions))"
)


# Local parts of shared mailboxes ("hello@", "customer.care@", "no-reply@"): a business's
# door, not a person; their words ("hello", "care") are everyday copy.
ROLE_MAILBOXES = frozenset(
    "hello hi hey info information care customer customers client clients support help helpdesk "
    "sales contact contactus team office admin orders order service services customerservice "
    "press media pr marketing billing accounts accounting finance no noreply donotreply do not "
    "reply enquiries enquiry inquiries inquiry returns shop store wholesale partners partnership "
    "partnerships jobs careers hr feedback newsletter news mail webmaster postmaster privacy "
    "legal security studio hq general reception bookings booking events community social us".split()
)
# Words of capitalised product and marketing phrases that follow a contact word ("Contact Lens
# Safe", "Email Exclusive Bundle", "Reach New Heights"). None is a given name or a common
# surname ("Page", "Price", "Kit", "Summer", "Holiday" are, and are left out on purpose).
NOT_NAME_WORDS = frozenset(
    "lens lenses safe safety secure security exclusive bundle bundles new heights protection "
    "program programme plan plans us today now here anytime online free gift gifts offer offers "
    "deal deals sale sales shop store support service services team customer customers care "
    "help desk info information details order orders shipping delivery returns return warranty "
    "guarantee set sets pack packs box edition collection series range formula formulas version "
    "model size sizes color colour scent scents candle candles solution solutions cleaner cream "
    "oil soap wax jar bottle refill refills pro plus mini ultra premium deluxe classic original "
    "limited special spring fall seasonal comfort proof ready friendly lovers fans club members "
    "member rewards points newsletter subscribers subscription savings discount code codes "
    "coupon voucher trial sample samples site website app account form list center centre "
    "hotline number bonus promo sign up login today's everyday".split()
)
# Words right after the house number of something that reads like an address but measures or
# counts ("20 Piece Place Setting", "9 Inch Square Pan", "2 Terabyte Hard Drive").
MEASURE_WORDS = frozenset(
    "piece pieces pc pcs pack packs count ct inch inches in foot feet ft yard yards meter meters "
    "metre metres cm mm ounce ounces oz pound pounds lb lbs quart quarts qt gallon gallons gal "
    "liter liters litre litres cup cups gram grams kg terabyte terabytes tb gigabyte gigabytes gb "
    "megabyte megabytes mb watt watts volt volts amp amps speed speeds person people seat seats "
    "seater tier tiers layer layers shelf shelves drawer drawers door doors slice slices serving "
    "servings port ports burner burners player players year years month months week weeks day "
    "days hour hours minute minutes degree degrees sheet sheets ply thread threads bottle "
    "bottles jar jars wick wicks set sets channel channels bit core cores pin pins step steps "
    "drop drops x".split()
)
_NAME_PARTS = re.compile(r"[A-Za-z'\u2019]+")


def is_role_mailbox(address: str) -> bool:
    """Whether an e-mail address is a shared mailbox ("hello@", "customer.care@"): every word
    of its local part names a role, not a person."""
    local = address.rpartition("@")[0].lower()
    words = re.findall(r"[a-z]+", local)
    return bool(words) and all(w in ROLE_MAILBOXES for w in words) and not re.search(r"\d", local)


def plausible_person_name(name: str) -> bool:
    """Whether capitalised words found next to a contact word can be a person's name: none of
    them is a product or marketing word ("Lens Safe", "Exclusive Bundle" are not)."""
    words = [w.lower() for w in _NAME_PARTS.findall(name)]
    return bool(words) and not any(w in NOT_NAME_WORDS for w in words)


def plausible_street_address(text: str) -> bool:
    """Whether a number, capitalised words and a street word ("12 Harbor Street") is a street
    address and not a measure or count ("20 Piece Place Setting", "9 Inch Square")."""
    words = re.findall(r"[A-Za-z]+", text)
    return bool(words) and words[0].lower() not in MEASURE_WORDS


# Letters of other scripts drawn like Latin ones ("іgnore" with a Cyrillic і, "ρrompt" with a
# Greek rho): folded to Latin before the instruction patterns run. NFKC already folds
# fullwidth and mathematical letters and ligatures; these are what it leaves. The common ones
# of Unicode's confusables list (TR39) for Cyrillic and Greek, no more: a Russian or Greek
# text folds to Latin gibberish, which matches no English instruction.
CONFUSABLES = str.maketrans(
    "аеорсухіјѕһԁԛԝɡӏАВЕКМНОРСТХІЈЅУԜ"  # Cyrillic
    "αονρικτυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ"  # Greek
    "ıɑℓ",  # Latin dotless i, Latin alpha, script l
    "aeopcyxijshdqwglABEKMHOPCTXIJSYWaovpiktuxABEZHIKMNOPTYXial",
)
_SPACES = re.compile(r"\s{2,}|[^\S ]")


def fold(text: str) -> tuple[str, list[int] | None]:
    """``text`` as the instruction patterns read it, and where each of its characters came
    from (``None``: unchanged). Compatibility forms are folded (NFKC: fullwidth letters,
    ligatures), accents and invisible format characters (zero-width spaces and joiners, the
    byte-order mark, bidi controls) dropped, look-alike letters mapped to Latin and runs of
    whitespace made one space, so "Ig\\u200bnore  prevіous\\ninstructions" reads as
    "Ignore previous instructions"."""
    if text.isascii() and not _SPACES.search(text):
        return text, None
    out: list[str] = []
    origin: list[int] = []
    space = False
    for i, char in enumerate(text):
        if char.isascii():
            piece = char
        elif unicodedata.category(char) == "Cf":
            continue
        else:
            # NFKD then no marks: NFKC's compatibility folding, with accents dropped too
            # ("ïgnore"), which no instruction needs.
            decomposed = unicodedata.normalize("NFKD", char)
            piece = "".join(c for c in decomposed if not unicodedata.combining(c))
            piece = piece.translate(CONFUSABLES)
        for c in piece:
            if c.isspace():
                if space:
                    continue
                c = " "
            space = c == " "
            out.append(c)
            origin.append(i)
    return "".join(out), origin


def unfold_span(origin: list[int] | None, span: tuple[int, int]) -> tuple[int, int]:
    """A span of ``fold``'s text as a span of the text it was given."""
    if origin is None or span[0] >= span[1]:
        return span
    return origin[span[0]], origin[span[1] - 1] + 1


# Product attributes whose name says they hold personal data ("buyer_contact", "owner_email",
# "phone", "staff"): their value is personal whatever it looks like ("Jane", "ext. 4"). Not
# when a word of the name says it describes the product instead ("customer_rating",
# "staff_pick", "phone_model", "contact_lens_safe", "email_exclusive").
PERSONAL_KEY_WORDS = frozenset(
    "contact contacts email mail phone telephone tel mobile cell fax whatsapp buyer buyers "
    "owner owners staff customer customers client employee employees manager rep "
    "representative assignee requester signatory person".split()
)
PRODUCT_KEY_WORDS = frozenset(
    "rating ratings review reviews score count segment type age favorite favourite favorites "
    "pick picks choice lens lenses service care support policy model models compatibility "
    "compatible case cases mount holder stand size brand exclusive exclusives only signup "
    "sign satisfaction friendly safe".split()
)


def is_personal_key(key: str) -> bool:
    """Whether a product attribute's name says its value is personal data."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", key)  # "buyerContact"
    words = set(re.findall(r"[a-z]+", spaced.lower().replace("e-mail", "email")))
    return bool(words & PERSONAL_KEY_WORDS) and not words & PRODUCT_KEY_WORDS
