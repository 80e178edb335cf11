"""The brief's visual direction, and the prompt an image provider is given (pure: no Django).

Everything the prompt says comes from the brief, the brand and what people said about earlier
options; nothing is made up here. The product itself is never described for a model to draw:
it comes from the packshot, and the prompt says to keep it exactly as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from signoff.visuals.providers.port import Direction

_SPACE_WORDS = ("negative space", "room for copy", "copy space", "empty space", "top third")


def direction_from(
    brief: Mapping[str, Any],
    *,
    palette: Iterable[str],
    hypothesis: str = "",
    negatives: Iterable[str] = (),
    examples: Iterable[str] = (),
    feedback: Iterable[str] = (),
) -> Direction:
    """Build the direction from a brief version's data and the workspace's palette.

    ``hypothesis`` (the batch's own) wins over the brief's; ``examples`` are the notes of
    brand examples and previous winners, ``negatives`` those of negative references.
    """
    examples = tuple(n for n in examples if n)
    texts = [hypothesis, brief.get("hypothesis", ""), *examples]
    # Brand examples describe the look ("warm low light, editorial framing"): they are part
    # of the direction, so they travel with the acceptance criteria the prompt lists.
    return Direction(
        hypothesis=(hypothesis or brief.get("hypothesis", "")).strip(),
        audience=brief.get("audience", "").strip(),
        key_messages=tuple(brief.get("key_messages", [])),
        acceptance_criteria=(
            *brief.get("acceptance_criteria", []),
            *(f"Look like the brand example: {note}" for note in examples),
        ),
        negatives=tuple(n for n in negatives if n),
        palette=tuple(c.upper() for c in palette),
        past_feedback=tuple(feedback),
        negative_space=any(word in t.lower() for t in texts for word in _SPACE_WORDS),
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
