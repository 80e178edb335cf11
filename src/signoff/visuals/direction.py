"""The brief's visual direction, and the prompt an image provider is given (pure: no Django).

Everything the prompt says comes from the brief, the brand and what people said about earlier
options; nothing is made up here. The product itself is never described for a model to draw:
it comes from the packshot, and the prompt says to keep it exactly as it is.

Every text reaches the direction through the input guard (``agents.guard``), as it reaches the
copy drafter: a sentence that instructs the system or holds personal data is left out. The
brief's texts are read through its version's screen; texts a person typed elsewhere (a batch's
hypothesis, reference notes, ratings) are screened one by one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from signoff.agents.guard import Screen, screen_brief, screen_text
from signoff.visuals.providers.port import Direction

_SPACE_WORDS = ("negative space", "room for copy", "copy space", "empty space", "top third")


def screened(texts: Iterable[str], where: str) -> tuple[str, ...]:
    """The texts as the input guard lets a model see them (``where`` names them in its
    findings); a text that was all instruction or personal data is left out."""
    out = []
    for i, text in enumerate(texts):
        kept = screen_text(f"{where}[{i}]", str(text))[1].strip() if text else ""
        if kept:
            out.append(kept)
    return tuple(out)


def direction_from(
    brief: Mapping[str, Any],
    *,
    palette: Iterable[str],
    screen: Screen | None = None,
    hypothesis: str = "",
    negatives: Iterable[str] = (),
    examples: Iterable[str] = (),
    feedback: Iterable[str] = (),
) -> Direction:
    """Build the direction from a brief version's data and the workspace's palette.

    ``screen`` is the brief version's (``BriefVersion.screen()``, what the drafter reads);
    without it the data is screened here. ``hypothesis`` (the batch's own) wins over the
    brief's; ``examples`` are the notes of brand examples and previous winners, ``negatives``
    those of negative references.
    """
    screen = screen if screen is not None else screen_brief(brief, ())

    def text(path: str) -> str:
        return screen.text(path, str(brief.get(path) or "")).strip()

    def texts(key: str) -> tuple[str, ...]:
        kept = (screen.text(f"{key}[{i}]", str(t)) for i, t in enumerate(brief.get(key) or []))
        return tuple(t.strip() for t in kept if t and t.strip())

    examples = screened(examples, "references.note")
    own = screened([hypothesis], "hypothesis")
    hypothesis = own[0] if own else ""
    texts_read = [hypothesis, text("hypothesis"), *examples]
    # Brand examples describe the look ("warm low light, editorial framing"): they are part
    # of the direction, so they travel with the acceptance criteria the prompt lists.
    return Direction(
        hypothesis=hypothesis or text("hypothesis"),
        audience=text("audience"),
        key_messages=texts("key_messages"),
        acceptance_criteria=(
            *texts("acceptance_criteria"),
            *(f"Look like the brand example: {note}" for note in examples),
        ),
        negatives=screened(negatives, "references.note"),
        palette=tuple(c.upper() for c in palette),
        past_feedback=screened(feedback, "feedback"),
        negative_space=any(word in t.lower() for t in texts_read for word in _SPACE_WORDS),
    )


def image_prompt(
    direction: Direction, *, product_name: str, purpose: str, size: tuple[int, int]
) -> str:
    """Return the full prompt for one batch of options for one SKU."""
    lines = [
        f"Product photograph of {product_name}, made from the attached packshot.",
        "Keep the product exactly as in the packshot: same shape, colours, label and text. "
        "Do not redraw, restyle or add to the product or its packaging.",
    ]
    if purpose == "main_white":
        lines.append(
            "Marketplace main image: the product alone on a pure white (RGB 255, 255, 255) "
            "background, centred, no props, no text, no shadow beyond a soft contact shadow."
        )
    else:
        if direction.hypothesis:
            lines.append(f"Idea to show: {direction.hypothesis}")
        if direction.audience:
            lines.append(f"For: {direction.audience}")
        if direction.key_messages:
            lines.append("Mood to support: " + " / ".join(direction.key_messages))
        if direction.palette:
            lines.append("Brand palette: " + ", ".join(direction.palette))
        if direction.negative_space:
            lines.append("Leave clear negative space in the top third for copy.")
    for criterion in direction.acceptance_criteria:
        lines.append(f"Must: {criterion}")
    for negative in direction.negatives:
        lines.append(f"Avoid: {negative}")
    for feedback in direction.past_feedback:
        lines.append(f"Earlier feedback: {feedback}")
    lines.append(f"Size: {size[0]}x{size[1]} px. No text, logos or watermarks in the image.")
    return "\n".join(lines)


def feedback_line(stars: int, tags: Iterable[str], note: str, number: int) -> str:
    """Return one earlier rating as the next prompt reads it."""
    tags = ", ".join(tags)
    parts = [f"option {number} rated {stars}/5"]
    if tags:
        parts.append(f"tags: {tags}")
    if note:
        parts.append(note)
    return "; ".join(parts)
