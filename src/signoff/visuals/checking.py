"""Where the image checks run: on every option, every edit and every rendition.

The measures themselves are pure (``signoff.visuals.qc``); this module picks the thresholds
(the channel's, or the generic ones for an option that belongs to no channel yet) and turns
findings into the rows the services store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from signoff.channels.image_qc import ImageQCSpec
from signoff.channels.spec import ChannelSpec
from signoff.visuals.qc.findings import ImageFinding
from signoff.visuals.qc.run import check_image


@dataclass(frozen=True, slots=True)
class Checked:
    findings: list[dict[str, Any]] = field(default_factory=list)  # ImageFinding row values
    product_bbox: list[int] | None = None


def check_option(
    image: Image.Image, packshot: Image.Image | None, product_bbox: list[int] | None = None
) -> Checked:
    """Check a generated or edited image before a person looks at it (generic thresholds:
    it is not yet any channel's image, so channel-only rules such as white backgrounds wait
    for its renditions). ``product_bbox``: where the product is, when the maker knows."""
    found = check_image(
        image,
        ImageQCSpec(),
        main=False,
        packshot=packshot,
        product_bbox=tuple(product_bbox) if product_bbox else None,
    )
    return Checked([_row(f) for f in found], product_bbox or _bbox_of(found))


def check_rendition(
    image: Image.Image,
    channel: ChannelSpec,
    *,
    main: bool,
    packshot: Image.Image | None,
    jpeg_quantization: Any = None,
    product_bbox: tuple[int, int, int, int] | None = None,
) -> list[dict[str, Any]]:
    """Check one channel rendition against that channel's thresholds."""
    rules = channel.images
    spec = rules.qc if rules is not None and rules.qc is not None else ImageQCSpec()
    found = check_image(
        image,
        spec,
        main=main,
        packshot=packshot,
        physical=rules.print if rules is not None else None,
        jpeg_quantization=jpeg_quantization,
        product_bbox=product_bbox,
    )
    return [_row(f) for f in found]


def _row(finding: ImageFinding) -> dict[str, Any]:
    return {
        "rule_id": finding.rule_id,
        "severity": finding.severity,
        "message": finding.message,
        "bbox": list(finding.bbox) if finding.bbox else None,
        "suggested_fix": finding.suggested_fix or "",
    }


def _bbox_of(found: list[ImageFinding]) -> list[int] | None:
    # The product's box, where a product rule located it (product_match names its region).
    for finding in found:
        if finding.rule_id.startswith("image.product_match") and finding.bbox:
            return list(finding.bbox)
    return None
