"""The review flow's extra screens: saved board views (per person) and marking reviewed from
the approval matrix. Thin views: parse, call one service, redirect with the result."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from signoff.packages.decisions import review_package
from signoff.web.actions import Outcome
from signoff.web.models import SavedView
from signoff.web.scope import brief_for, package_for
from signoff.web.views import _flash, with_person
from signoff.workflow import WorkflowError
from signoff.workspaces.models import Person

# Only the board's own parameters are kept in a view (never a page number or anything else).
VIEW_PARAMS = ("channel", "sku", "state", "severity", "gate", "owner", "mine", "sort", "claim")


def view_params(query: QueryDict) -> str:
    """The board parameters of ``query`` worth saving, as a query string."""
    kept = QueryDict(mutable=True)
    for name in VIEW_PARAMS:
        value = query.get(name, "")
        if value:
            kept[name] = value
    return kept.urlencode()


def saved_views(person: Person) -> list[SavedView]:
    return list(SavedView.objects.filter(person=person))


@require_POST
@with_person
def board_view_save(request: HttpRequest, person: Person, slug: str) -> HttpResponse:
    """Save the board's current filters and sort under a name (a same-named view is replaced)."""
    brief = brief_for(person, slug)
    name = request.POST.get("name", "").strip()
    params = view_params(QueryDict(request.POST.get("params", "")))
    board = reverse("web:board", kwargs={"slug": brief.slug})
    if not name or len(name) > 80:
        messages.error(request, "Nothing saved: give the view a name of 1 to 80 characters.")
        return redirect(f"{board}?{params}" if params else board)
    with transaction.atomic():
        SavedView.objects.update_or_create(person=person, name=name, defaults={"params": params})
    messages.success(request, f"View “{name}” saved; it is on every brief's board for you.")
    return redirect(f"{board}?{params}" if params else board)


@require_POST
@with_person
def board_view_delete(
    request: HttpRequest, person: Person, slug: str, view_id: int
) -> HttpResponse:
    brief = brief_for(person, slug)
    deleted, _ = SavedView.objects.filter(person=person, pk=view_id).delete()
    if not deleted:
        raise Http404(f"no saved view {view_id}")
    messages.success(request, "View removed.")
    return redirect(reverse("web:board", kwargs={"slug": brief.slug}))


@require_POST
@with_person
def matrix_review(request: HttpRequest, person: Person, slug: str) -> HttpResponse:
    """Mark one matrix cell's current version reviewed, so the channel's batch approval
    (approve for launch) takes it."""
    brief = brief_for(person, slug)
    try:
        package = package_for(person, int(request.POST.get("package", "")))
    except ValueError:
        package = None
    if package is None or package.brief_id != brief.pk:
        raise Http404(f"no such package in {brief.slug}")
    try:
        result = review_package(package_id=package.pk, person=person)
    except WorkflowError as exc:
        _flash(request, Outcome(False, exc.message, exc.code.value))
    else:
        _flash(request, Outcome(True, f"Package #{package.pk}: {result.message}"))
    return redirect(reverse("web:matrix", kwargs={"slug": brief.slug}) + f"#cell-{package.pk}")
