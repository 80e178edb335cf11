"""The claims registry screen: filter claims, see the packages each touches, and (compliance)
flag, withdraw or reinstate one with a note. Thin: ``claims_page`` reads, ``set_claim_status``
changes (one transaction with every block or release and the audit events)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from signoff.core.errors import InputError, NotFound
from signoff.packages.claims import set_claim_status
from signoff.web.claims_page import ACTIONS, registry
from signoff.web.views import with_person
from signoff.workflow import WorkflowError
from signoff.workspaces.models import Person


@require_GET
@with_person
def claims(request: HttpRequest, person: Person) -> HttpResponse:
    context = registry(
        person,
        q=request.GET.get("q", "")[:200],
        status=request.GET.get("status", ""),
        use=request.GET.get("use", ""),
    )
    return render(request, "web/claims.html", {"person": person, **context})


@require_POST
@with_person
def claim_status(request: HttpRequest, person: Person, claim_id: str) -> HttpResponse:
    action = request.POST.get("action", "")
    back = reverse("web:claims")
    kept = {k: request.POST.get(k, "") for k in ("q", "status", "use") if request.POST.get(k)}
    if kept:
        back += "?" + urlencode(kept)
    if action not in ACTIONS:
        messages.error(request, "Choose flag, review, withdraw or reinstate.")
        return redirect(back)
    try:
        change = set_claim_status(
            workspace=person.workspace,
            claim_id=claim_id,
            status=ACTIONS[action][1],
            note=request.POST.get("note", "")[:2000],
            person=person,
        )
    except InputError as exc:
        messages.error(request, f"{claim_id}: " + "; ".join(p.message for p in exc.problems))
    except (WorkflowError, NotFound) as exc:
        messages.error(request, f"Refused: {getattr(exc, 'message', str(exc))}")
    else:
        messages.success(
            request,
            f"{change.claim}: {change.before} → {change.after}; "
            f"{len(change.blocked)} package(s) blocked, {len(change.released)} released.",
        )
    return redirect(back + f"#claim-{claim_id}")
