"""The enricher's proposals for a brief, and accepting them as a new brief version (before G1)."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

from django.db import transaction

from signoff.agents.enricher import Proposal, propose
from signoff.audit.services import record
from signoff.briefs.models import Brief, BriefVersion, Product
from signoff.briefs.workflow import template_for
from signoff.channels.catalog import resolve_spec
from signoff.core.errors import InputError, NotFound, Problem
from signoff.core.hashing import content_hash
from signoff.workflow import AuthorityError, ErrorCode, PackageState, StateError
from signoff.workspaces.models import Person
from signoff.workspaces.rules import brand_rules

PRODUCT_COLUMNS = (
    "sku",
    "name",
    "gtin",
    "price",
    "currency",
    "attributes",
    "claims",
    "images",
    "field_sources",
)


def proposals_for(brief: Brief) -> list[Proposal]:
    """Return what the enricher proposes for the brief's latest version."""
    from signoff.insights.selectors import learnings_for
    from signoff.packages.models import Note

    version = brief.latest_version()
    workspace = brief.workspace
    channels = {
        cid: resolve_spec(cid, workspace.channel_overrides.get(cid))
        for cid in version.data["channels"]
    }
    winners = [
        (n.sku, n.channel, n.text.replace("\n", " "))
        for n in Note.objects.filter(
            package__brief__workspace=workspace,
            kind=Note.Kind.WINNER,
            channel__in=list(channels),
        ).order_by("-created_at")[:10]
    ]
    learned = learnings_for(workspace.pk, channels)
    learnings = [(channel, text) for channel, texts in learned.items() for text in texts]
    products = [p.facts() for p in version.products.all()]
    return propose(version.data, products, channels, brand_rules(workspace), winners, learnings)


def accept_proposals(
    *, brief: Brief, person: Person, ids: Sequence[str], edits: Mapping[str, str] | None = None
) -> BriefVersion:
    """Store the brief with the chosen proposals (as edited) as its next version."""
    edits = dict(edits or {})
    with transaction.atomic():
        person = Person.objects.get(pk=person.pk)
        try:
            brief = Brief.objects.select_for_update().get(
                pk=brief.pk, workspace_id=person.workspace_id
            )
        except Brief.DoesNotExist as exc:
            raise NotFound(f"no brief {brief.slug!r} in {person.workspace.slug}") from exc
        if brief.state == PackageState.APPROVED:
            raise StateError(
                ErrorCode.INVALID_STATE,
                f"brief {brief.slug} has passed G1; change it with `signoff brief update`",
            )
        template = template_for(brief)
        if not template.contributor_roles & set(person.roles):
            raise AuthorityError(
                ErrorCode.WRONG_ROLE,
                f"{person.email} does not work on briefs here",
                required_roles=template.contributor_roles,
            )
        by_id = {p.id: p for p in proposals_for(brief)}
        unknown = [i for i in [*ids, *edits] if i not in by_id]
        if unknown or not (ids or edits):
            raise InputError(
                [
                    Problem(
                        f"unknown proposal id(s) {', '.join(unknown) or '(none given)'}; "
                        f"the current ones are {', '.join(by_id) or 'none'}",
                        field="proposals",
                    )
                ]
            )
        latest = brief.latest_version()
        data = copy.deepcopy(latest.data)
        chosen = [by_id[i] for i in dict.fromkeys([*ids, *edits])]
        for proposal in chosen:
            value = edits.get(proposal.id, proposal.value)
            if proposal.kind == "key_message":
                channel = proposal.target.split(".", 1)[1]
                data.setdefault("channel_messages", {}).setdefault(channel, []).append(value)
            elif proposal.kind == "request_data":
                data.setdefault("data_requests", []).append(value)
            else:
                data.setdefault("references", []).append(
                    {"kind": "previous_winner", "path": None, "note": value}
                )
        products = list(latest.products.values(*PRODUCT_COLUMNS))
        version = BriefVersion.objects.create(
            brief=brief,
            number=latest.number + 1,
            data=data,
            source_path=latest.source_path,
            base_dir=latest.base_dir,
            added_by=person.email,
            content_hash=content_hash({"brief": data, "products": products}),
        )
        Product.objects.bulk_create(
            Product(brief_version=version, position=i, **values)
            for i, values in enumerate(products)
        )
        record(
            action="brief.enriched",
            actor=person.email,
            subject_type="brief",
            subject_id=str(brief.pk),
            workspace=brief.workspace.slug,
            content_hash=version.content_hash,
            data={
                "version": version.number,
                "accepted": [p.id for p in chosen],
                "edited": sorted(edits),
            },
        )
    return version
