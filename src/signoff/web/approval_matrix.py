"""The approval matrix: the brief's SKU x channel grid, what waits on the launch gate, and
each channel's launch status. Reads only; a fixed number of queries whatever the brief's size.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import F

from signoff.agents.context import field_texts
from signoff.briefs.models import Brief
from signoff.briefs.workflow import template_for
from signoff.core import labels
from signoff.packages.models import Package, Review
from signoff.web.fieldtext import field_names
from signoff.web.pages import gate_of, main_images, waiting_on_gate
from signoff.workflow import Gate, PackageState, Template
from signoff.workspaces.models import Person


def launch_gate(template: Template) -> Gate:
    """Return the last gate a package meets (G4 in the e-commerce template): launch follows it."""
    return template.gates[-1]


def at_launch_gate(brief: Brief, channel: str | None = None) -> list[int]:
    """Return the ids of the brief's packages (of ``channel``) waiting on the launch gate."""
    template = template_for(brief)
    packages = Package.objects.filter(brief=brief).filter(
        waiting_on_gate(template, launch_gate(template).id)
    )
    if channel is not None:
        packages = packages.filter(channel=channel)
    return list(packages.order_by("id").values_list("id", flat=True))


@dataclass(frozen=True)
class MatrixCell:
    package: Package
    at_gate: bool  # waits on the launch gate: the matrix offers to approve it
    reviewed: bool  # the person marked its current version reviewed
    thumb: dict | None = None  # the main slot's image (``Version.images``), where attached
    # At the launch gate: the copy an approval here approves, as (field label, text) rows,
    # and its version number and content hash.
    copy: tuple[tuple[str, str], ...] = ()
    version: int | None = None
    content_hash: str = ""


def matrix_page(brief: Brief, person: Person) -> dict:
    """Return the SKU x channel grid with each cell's state, what waits on the launch gate
    (and which of it this person reviewed), and each channel's launch status."""
    template = template_for(brief)
    gate = launch_gate(template)
    version = brief.approved_version or brief.latest_version()
    channels = list(version.data.get("channels", [])) if version else []
    launched = {launch.channel: launch for launch in brief.launches.all()}
    packages = list(
        Package.objects.filter(brief=brief).select_related("current_version").order_by("id")
    )
    reviewed = set(
        Review.objects.filter(
            package__brief=brief, person=person.email, version_id=F("package__current_version_id")
        ).values_list("package_id", flat=True)
    )
    thumbs = main_images(packages, brief.workspace)
    cells: dict[str, dict[str, list[MatrixCell]]] = defaultdict(lambda: defaultdict(list))
    names: dict[str, dict[str, str]] = {}  # each channel's field labels
    skus: list[str] = []
    for package in packages:
        if package.sku not in skus:
            skus.append(package.sku)
        if package.channel not in channels:
            channels.append(package.channel)
        at_gate = gate_of(package, template) == gate
        current = package.current_version
        copy: tuple[tuple[str, str], ...] = ()
        if at_gate and current is not None:
            if package.channel not in names:
                names[package.channel] = field_names(package)
            copy = tuple(
                (labels.field_label(path, names[package.channel]), text)
                for path, text in field_texts(current.fields)
            )
        cells[package.sku][package.channel].append(
            MatrixCell(
                package,
                at_gate,
                package.pk in reviewed,
                thumbs.get(package.pk),
                copy=copy,
                version=current.number if current else None,
                content_hash=current.content_hash if current else "",
            )
        )
    # Rows in the brief's product order; SKUs no longer in the brief go last.
    order = list(version.products.order_by("position").values_list("sku", flat=True))
    skus.sort(key=lambda sku: order.index(sku) if sku in order else len(order))
    columns = []
    for channel in channels:
        column = [c for sku in skus for c in cells[sku][channel]]
        ready = sum(1 for c in column if c.package.state == PackageState.APPROVED)
        columns.append(
            {
                "channel": channel,
                "total": len(column),
                "ready": ready,
                "at_gate": sum(1 for c in column if c.at_gate),
                "reviewed": sum(1 for c in column if c.at_gate and c.reviewed),
                "published": sum(1 for c in column if c.package.state == PackageState.PUBLISHED),
                "launch": launched.get(channel),
                "launchable": bool(column) and ready == len(column) and channel not in launched,
            }
        )
    grid = [{"sku": sku, "cells": [cells[sku][c["channel"]] for c in columns]} for sku in skus]
    return {
        "brief": brief,
        "gate": gate,
        "holds_role": gate.owner.value in person.roles,
        "columns": columns,
        "grid": grid,
    }
