"""Provider comparisons for the API and the web app: run one and hold it, keep an option.

The CLI compares and keeps in one command (``signoff images compare ... --keep P:N``). A web
page or an API client sees the options first and keeps one in a later request, so the options
wait in the scratch area (``compare_scratch``) meanwhile. Nothing enters the content store
until a person keeps an option; then it is an image version like any option, made by
``compare.keep_option``.

The comparison itself runs in the request: it is R&D on one SKU, usually the builtin
compositor or a fast endpoint, and its answer is the point of asking.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from signoff.briefs.models import Brief
from signoff.core.errors import InputError, NotFound, Problem
from signoff.visuals import compare_scratch as scratch
from signoff.visuals.compare import ComparedOption, compare_providers, keep_option
from signoff.visuals.generation import MAX_OPTIONS
from signoff.visuals.models import ImageVersion
from signoff.visuals.providers.registry import image_provider, parse_spec
from signoff.workspaces.models import Person

MAX_PROVIDERS = 6  # side by side on one screen


def check_providers(providers: list[str], n: int) -> list[str]:
    """Return the provider specs to compare, each known and configured, without repeats.

    Raises InputError located at ``providers.N`` (or ``providers``, ``n``): an unknown or
    misconfigured provider is bad input here, not a server error later.
    """
    problems = []
    specs: list[str] = []
    for i, raw in enumerate(providers):
        spec = raw.strip()
        if not spec:
            continue
        try:
            kind, model = parse_spec(spec)
            image_provider(spec)  # builds the client: its settings are checked, nothing is sent
        except ImproperlyConfigured as exc:
            problems.append(Problem(str(exc), field=f"providers.{i}"))
            continue
        canonical = f"{kind}:{model}" if model else kind
        if canonical not in specs:
            specs.append(canonical)
    if not specs and not problems:
        problems.append(Problem("name at least one image provider", field="providers"))
    if len(specs) > MAX_PROVIDERS:
        problems.append(
            Problem(f"at most {MAX_PROVIDERS} providers side by side", field="providers")
        )
    if not 1 <= n <= MAX_OPTIONS:
        problems.append(Problem(f"n is 1 to {MAX_OPTIONS} options per provider", field="n"))
    if problems:
        raise InputError(problems)
    return specs


def run_comparison(
    *, brief: Brief, person: Person, sku: str, providers: list[str], n: int = 1
) -> scratch.Held:
    """Compare ``providers`` on one SKU and hold the options for the person to keep one."""
    specs = check_providers(providers, n)
    options = compare_providers(brief=brief, person=person, sku=sku, providers=specs, n=n)
    return scratch.hold(
        options,
        person_id=person.pk,
        workspace_id=person.workspace_id,
        brief_id=brief.pk,
        sku=sku,
    )


def held_comparison(*, brief: Brief, person: Person, token: str) -> scratch.Held:
    """The person's comparison ``token`` of this brief (NotFound otherwise)."""
    held = scratch.load(token, person_id=person.pk, workspace_id=person.workspace_id)
    if held.brief_id != brief.pk:
        raise NotFound(f"no comparison {token} of {brief.slug}")
    return held


def keep_compared(
    *, brief: Brief, person: Person, token: str, option: str, note: str = ""
) -> ImageVersion:
    """Store option ``option`` ("builtin:1") of the person's comparison as an option of the
    brief; its file leaves the scratch area."""
    held = held_comparison(brief=brief, person=person, token=token)
    if not option.strip():
        raise InputError([Problem("name the option to keep, e.g. builtin:1", field="option")])
    with scratch.keeping(held, option.strip()) as claim:
        kept = claim.option
        image = keep_option(
            brief=brief,
            person=person,
            sku=held.sku,
            option=ComparedOption(
                provider=kept.provider,
                model=kept.model,
                index=kept.index,
                data=claim.data,
                size=kept.size,
                cost=kept.cost,
                latency_ms=kept.latency_ms,
                prompt=kept.prompt,
                parameters=kept.parameters,
                findings=kept.findings,
                error=kept.error,
                digital_source_type=kept.digital_source_type,
                seed=kept.seed,
            ),
            note=note,
        )
        claim.kept_as = image.pk
    return image


def option_summary(option: scratch.HeldOption) -> dict:
    """One held option as the API and the page show it."""
    return {
        "key": option.key,
        "provider": option.provider,
        "model": option.model,
        "index": option.index,
        "size": list(option.size) if option.size else None,
        "format": option.format,
        "cost": round(option.cost, 6),
        "latency_ms": round(option.latency_ms, 1),
        "prompt": option.prompt,
        "findings": option.findings,
        "error": option.error or None,
        "kept_as": option.kept_as,
    }
