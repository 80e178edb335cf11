"""Launch a channel of a brief: publish its approved packages and export them with provenance.

A channel launches only when every one of its packages has passed the last gate and its
current version still has everything the channel needs now: no blocking finding, every
required copy field and image slot filled (``signoff.packages.readiness``). Publishing
is the point of no return: the bundle is written to a temporary folder first, the packages are
published and the launch recorded (with the manifest's hash as the receipt) in one
transaction, and only then does the bundle take its final name.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from signoff.audit.services import record
from signoff.briefs.models import Brief
from signoff.briefs.workflow import template_for
from signoff.core.errors import InputError, NotFound
from signoff.core.hashing import canonical_json, content_hash
from signoff.delivery.manifest import package_manifest
from signoff.delivery.models import Launch
from signoff.outbox.services import enqueue_launch
from signoff.packages.decisions import person_actor
from signoff.packages.models import Package
from signoff.packages.readiness import Unmet, unmet_needs
from signoff.visuals.trail import write_image_files
from signoff.workflow import Action, ErrorCode, Facts, Position, StateError, decide
from signoff.workspaces.models import Person


@dataclass
class LaunchResult:
    channel: str
    packages: list[int]
    bundle: Path
    manifest_hash: str
    bundle_name: str = ""  # workspace/brief/channel: the bundle's place without the server's
    launched_at: datetime | None = None  # as the manifest and the launch record say
    launched_by: str = ""  # the launching person's e-mail


def export_root() -> Path:
    """Where launch bundles go: ``SIGNOFF_EXPORT_DIR``, or ``$SIGNOFF_HOME/exports``."""
    configured = getattr(settings, "SIGNOFF_EXPORT_DIR", None)
    return Path(configured) if configured else Path(settings.SIGNOFF_HOME) / "exports"


def bundle_name(brief: Brief, channel: str) -> str:
    """A bundle's place under the export root, keyed by workspace: two workspaces may both
    have a brief with the same slug."""
    return f"{brief.workspace.slug}/{brief.slug}/{channel}"


def _ensure_not_launched(brief: Brief, channel: str, final: Path) -> None:
    """Refuse a second launch of the channel, saying when and by whom it launched, or that a
    bundle left by an unrecorded launch is in the way (its place named without the server's
    folders, which a web or API user must not learn)."""
    earlier = Launch.objects.filter(brief=brief, channel=channel).first()
    if earlier is not None:
        raise StateError(
            ErrorCode.INVALID_STATE,
            f"{channel} of {brief.slug} was launched already, by {earlier.person} on "
            f"{earlier.created_at:%Y-%m-%d %H:%M} UTC",
        )
    if final.exists():
        raise StateError(
            ErrorCode.INVALID_STATE,
            f"a bundle for {bundle_name(brief, channel)} is in the export folder already, from "
            "a launch not recorded here; an administrator must move it away first",
        )


def _ready(packages: list[Package], channel: str) -> None:
    waiting = [p for p in packages if p.state != Package.State.APPROVED]
    if not packages:
        raise NotFound(f"no packages on channel {channel}")
    if waiting:
        listed = ", ".join(f"{p.pk} ({p.sku}, {p.position})" for p in waiting[:10])
        more = f" and {len(waiting) - 10} more" if len(waiting) > 10 else ""
        raise StateError(
            ErrorCode.INVALID_STATE,
            f"{channel} cannot launch: {len(waiting)} of {len(packages)} packages have not "
            f"passed the last gate: {listed}{more}",
        )
    # An approval from before a field or slot became required (a workspace override), or a
    # finding recorded since, must not ship: ask again what the channel needs, naming each.
    unmet = unmet_needs(packages)
    if unmet:
        raise StateError(_unmet_code(unmet), _unmet_message(channel, packages, unmet))


# What launch names first when packages lack several things: the code is the first kind found.
_UNMET_KINDS = (
    ("blocking", ErrorCode.BLOCKING_FINDINGS, "have blocking findings"),
    ("fields", ErrorCode.MISSING_FIELDS, "have empty required copy fields"),
    ("images", ErrorCode.MISSING_IMAGES, "have empty required image slots"),
)
_LISTED = 10  # packages named per kind; the rest are counted


def _unmet_code(unmet: dict[int, Unmet]) -> ErrorCode:
    return next(
        code for kind, code, _ in _UNMET_KINDS if any(getattr(u, kind) for u in unmet.values())
    )


def _unmet_message(channel: str, packages: list[Package], unmet: dict[int, Unmet]) -> str:
    """One sentence per kind of lack, each naming the packages (id and SKU) and what they lack."""
    sentences = []
    for kind, _, says in _UNMET_KINDS:
        lacking = [(p, getattr(unmet[p.pk], kind)) for p in packages if p.pk in unmet]
        lacking = [(p, items) for p, items in lacking if items]
        if not lacking:
            continue
        listed = "; ".join(
            f"{p.pk} ({p.sku}): {', '.join(items)}" for p, items in lacking[:_LISTED]
        )
        more = f" and {len(lacking) - _LISTED} more" if len(lacking) > _LISTED else ""
        sentences.append(f"{len(lacking)} of {len(packages)} packages {says}: {listed}{more}")
    return f"{channel} cannot launch: " + ". ".join(sentences)


def _ensure_brief_channel(brief: Brief, channel: str) -> None:
    """Refuse a channel the brief does not name: it also names the bundle's folder, so a
    path-like one (``../../x``) must never reach the file system."""
    channels = _brief_channels(brief)
    if channel not in channels:
        raise InputError.single(
            f"{channel!r} is not a channel of brief {brief.slug!r}; "
            f"its channels: {', '.join(channels)}",
            field="channel",
        )


def launch_channel(
    *, brief: Brief, channel: str, person: Person, out_dir: Path | None = None
) -> LaunchResult:
    """Publish every package of one channel and write its bundle under ``out_dir`` (by
    default :func:`export_root`), at ``workspace/brief/channel``.

    ``channel`` must be one of the brief's channels (``InputError`` at ``channel`` otherwise).
    """
    if brief.workspace_id != person.workspace_id:
        raise NotFound(f"no brief {brief.slug!r} in {person.workspace.slug}")
    _ensure_brief_channel(brief, channel)
    place = bundle_name(brief, channel)
    final = (out_dir or export_root()) / place
    _ensure_not_launched(brief, channel, final)
    staging = Path(tempfile.mkdtemp(prefix=f".{channel}-", dir=_parent(final.parent)))
    try:
        with transaction.atomic():
            packages = list(
                Package.objects.select_for_update(of=("self",))
                .filter(brief=brief, channel=channel)
                .select_related(
                    "brief__workspace", "current_version", "current_version__brief_version"
                )
                .order_by("id")
            )
            _ready(packages, channel)
            person = Person.objects.get(pk=person.pk)
            template = template_for(brief)
            actor = person_actor(person)
            decisions = [
                decide(Position.parse(p.position), Action.PUBLISH, actor, Facts(), template)
                for p in packages
            ]
            launched_at = timezone.now()
            entries = [package_manifest(p) for p in packages]
            for package, entry in zip(packages, entries, strict=True):
                name = f"{entry['sku']}-{entry['market']}-{entry['variant']}.json"
                (staging / name).write_text(
                    json.dumps(entry["content"], indent=2, ensure_ascii=False), encoding="utf-8"
                )
                # Every approved rendition, named by the workspace's pattern.
                write_image_files(package.current_version.images, staging / "images")
            manifest = {
                "brief": brief.slug,
                "workspace": brief.workspace.slug,
                "channel": channel,
                # When and by whom, so the bundle says it without the database.
                "launched_at": launched_at.isoformat(),
                "launched_by": person.email,
                "launched_by_name": person.name,
                "packages": entries,
            }
            manifest_bytes = canonical_json(manifest)
            (staging / "manifest.json").write_bytes(manifest_bytes)
            digest = content_hash(manifest)
            for package, decision in zip(packages, decisions, strict=True):
                before = package.position
                target = decision.next_position
                package.stage, package.state = target.stage.value, target.state.value
                package.save(update_fields=["stage", "state"])
                record(
                    action=decision.audit_action,
                    actor=person.email,
                    subject_type="package",
                    subject_id=str(package.pk),
                    workspace=brief.workspace.slug,
                    from_position=before,
                    to_position=package.position,
                    content_hash=package.current_version.content_hash,
                    sku=package.sku,
                    channel=channel,
                    data={"manifest_hash": digest},
                )
            launch = Launch.objects.create(
                brief=brief,
                channel=channel,
                person=person.email,
                bundle_path=str(final),
                manifest_hash=digest,
                packages=[p.pk for p in packages],
            )
            # ``auto_now_add`` stamps its own time: the record keeps the manifest's.
            Launch.objects.filter(pk=launch.pk).update(created_at=launched_at)
            record(
                action="channel.launched",
                actor=person.email,
                subject_type="brief",
                subject_id=str(brief.pk),
                workspace=brief.workspace.slug,
                channel=channel,
                content_hash=digest,
                data={"packages": [p.pk for p in packages], "bundle": str(final)},
            )
            # The outbox: a delivery per package and destination, committed with the publish
            # (InputError, and nothing published, if a destination cannot be used from here).
            enqueue_launch(
                brief=brief,
                channel=channel,
                packages=packages,
                approvals=[entry["approvals"] for entry in entries],
                published_at=launched_at,
                manifest_hash=digest,
            )
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    # Only a committed launch gets its bundle under the final name.
    staging.rename(final)
    return LaunchResult(
        channel, [p.pk for p in packages], final, digest, place, launched_at, person.email
    )


def _parent(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def launchable_channels(brief: Brief) -> list[str]:
    """Return the brief's channels not launched yet, in brief order."""
    done = set(brief.launches.values_list("channel", flat=True))
    return [c for c in _brief_channels(brief) if c not in done]


def _brief_channels(brief: Brief) -> list[str]:
    return list(brief.latest_version().data["channels"])
