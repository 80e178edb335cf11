"""The scratch area a provider comparison waits in: files and a manifest, no database.

Held for the person who ran it only, an option kept once, the folder gone when every option
is kept or a day has passed (cleared when the next comparison is written).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from signoff.core.errors import InputError, NotFound
from signoff.visuals import compare_scratch as scratch
from signoff.workflow import StateError

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
WHO = {"person_id": 7, "workspace_id": 3}


def png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(out, format="PNG")
    return out.getvalue()


@dataclass
class Option:
    provider: str
    model: str
    index: int
    data: bytes | None
    size: tuple[int, int] | None = (32, 24)
    cost: float = 0.0
    latency_ms: float = 12.5
    prompt: str = "Product photograph"
    parameters: dict = field(default_factory=dict)
    findings: list = field(default_factory=list)
    error: str = ""
    digital_source_type: str = ""
    seed: int | None = 1


def options() -> list[Option]:
    return [
        Option("builtin", "compositor-1", 1, png((200, 0, 0)), findings=[{"rule_id": "x"}]),
        Option("builtin", "compositor-1", 2, png((0, 200, 0))),
        Option("openai", "gpt-image-2", 1, None, size=None, error="429 rate limited"),
    ]


def hold(root: Path, now: datetime = NOW, **changes) -> scratch.Held:
    where = {**WHO, "brief_id": 11, "sku": "SKU-1"} | changes
    return scratch.hold(options(), root=root, now=now, **where)


def test_held_options_read_back_for_the_same_person_only(tmp_path: Path) -> None:
    held = hold(tmp_path)

    again = scratch.load(held.token, root=tmp_path, now=NOW, **WHO)

    assert again == held
    assert [o.key for o in again.options] == ["builtin:1", "builtin:2", "openai:1"]
    assert again.options[0].findings == [{"rule_id": "x"}]
    assert again.options[0].format == "png"
    assert scratch.read_option(again, again.options[1], root=tmp_path) == png((0, 200, 0))
    assert again.options[2].file == ""  # a failed option holds no file
    manifest = json.loads((tmp_path / held.token / "manifest.json").read_text())
    assert (manifest["person_id"], manifest["workspace_id"], manifest["sku"]) == (7, 3, "SKU-1")
    for person_id, workspace_id in ((8, 3), (7, 4)):
        with pytest.raises(NotFound):
            scratch.load(
                held.token,
                person_id=person_id,
                workspace_id=workspace_id,
                root=tmp_path,
                now=NOW,
            )


@pytest.mark.parametrize(
    "token", ["", "../etc", "a/b" * 10, "x" * 19, "x" * 24 + "\n", "no-such-token-at-all-here"]
)
def test_a_token_that_is_not_one_is_not_found_and_touches_no_path(tmp_path, token) -> None:
    with pytest.raises(NotFound):
        scratch.load(token, root=tmp_path, now=NOW, **WHO)


def test_an_option_is_kept_once_and_the_folder_goes_with_the_last(tmp_path: Path) -> None:
    held = hold(tmp_path)

    with scratch.keeping(held, "builtin:1", root=tmp_path) as claim:
        assert claim.data == png((200, 0, 0))
        claim.kept_as = 41

    again = scratch.load(held.token, root=tmp_path, now=NOW, **WHO)
    assert [o.kept_as for o in again.options] == [41, None, None]
    with pytest.raises(StateError, match="already kept as image 41"):
        with scratch.keeping(again, "builtin:1", root=tmp_path):
            pass
    with pytest.raises(InputError) as unknown:
        with scratch.keeping(again, "builtin:9", root=tmp_path):
            pass
    assert [p.field for p in unknown.value.problems] == ["option"]
    with pytest.raises(InputError, match="rate limited"):
        with scratch.keeping(again, "openai:1", root=tmp_path):
            pass
    with scratch.keeping(again, "builtin:2", root=tmp_path) as claim:
        claim.kept_as = 42
    assert not (tmp_path / held.token).exists()  # the failed option has nothing to keep


def test_a_keep_that_fails_puts_the_option_back(tmp_path: Path) -> None:
    held = hold(tmp_path)

    with pytest.raises(RuntimeError):
        with scratch.keeping(held, "builtin:2", root=tmp_path):
            raise RuntimeError("the store refused")
    with scratch.keeping(held, "builtin:1", root=tmp_path):
        pass  # nothing stored: kept_as stays unset

    again = scratch.load(held.token, root=tmp_path, now=NOW, **WHO)
    assert [o.kept_as for o in again.options] == [None, None, None]
    assert scratch.read_option(again, again.options[1], root=tmp_path) == png((0, 200, 0))


def test_two_keeps_of_one_option_at_once_store_it_once(tmp_path: Path) -> None:
    held = hold(tmp_path)

    with scratch.keeping(held, "builtin:1", root=tmp_path) as claim:
        with pytest.raises(StateError, match="being kept by another request"):
            with scratch.keeping(held, "builtin:1", root=tmp_path):
                pass
        claim.kept_as = 5


def test_a_day_old_comparison_expires_and_the_next_one_clears_it(tmp_path: Path) -> None:
    old = hold(tmp_path)
    later = NOW + scratch.TTL

    with pytest.raises(NotFound):
        scratch.load(old.token, root=tmp_path, now=later, **WHO)
    assert scratch.load(old.token, root=tmp_path, now=later - timedelta(seconds=1), **WHO)
    new = hold(tmp_path, now=later)

    assert not (tmp_path / old.token).exists()
    assert (tmp_path / new.token / "manifest.json").is_file()
    assert scratch.clean_expired(root=tmp_path, now=later) == 0


def test_keys_name_the_model_only_where_the_provider_alone_is_ambiguous() -> None:
    two_models = [
        Option("openai", "gpt-image-2", 1, b""),
        Option("openai", "gpt-image-2-mini", 1, b""),
        Option("builtin", "compositor-1", 1, b""),
        Option("builtin", "compositor-1", 1, b""),
    ]

    assert scratch.option_keys(two_models) == [
        "openai:gpt-image-2:1",
        "openai:gpt-image-2-mini:1",
        "builtin:compositor-1:1#3",
        "builtin:compositor-1:1#4",
    ]
