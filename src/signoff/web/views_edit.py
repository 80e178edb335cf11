"""Editing copy in the browser, with live checks, and inline comments with @mentions.

Thin like ``views``: read the form, call ``editing`` (reads) or one service (``edit_package``,
``add_comment``, ``resolve_comment``), render. The live check is an htmx partial that runs the
edit's checks on what is typed and saves nothing; every action also works without JavaScript.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from signoff.comments.services import add_comment, comment_for, resolve_comment
from signoff.core.errors import InputError, NotFound
from signoff.packages.authoring import edit_package
from signoff.packages.editing import channel_spec
from signoff.web import editing
from signoff.web.scope import package_for
from signoff.web.views import with_person
from signoff.workflow import WorkflowError
from signoff.workspaces.models import Person

MAX_NOTE = 2000


def _editable(person: Person, package_id: int):
    found = package_for(person, package_id)
    if found.current_version is None:
        raise Http404(f"package {found.pk} has no version to edit yet")
    return found


def _page(request: HttpRequest, person: Person, found, status: int = 200, **extra) -> HttpResponse:
    post = request.POST if request.method == "POST" else None
    context = {"person": person, **editing.edit_page(found, post), **extra}
    return render(request, "web/package_edit.html", context, status=status)


@require_http_methods(["GET", "POST"])
@with_person
def package_edit(request: HttpRequest, person: Person, package_id: int) -> HttpResponse:
    """The editor (GET), and saving its fields as a new version with a note (POST)."""
    found = _editable(person, package_id)
    if request.method == "GET":
        return _page(request, person, found)
    note = request.POST.get("note", "").strip()
    if not note:
        return _page(request, person, found, 400, error="Say what you changed and why (the note).")
    if len(note) > MAX_NOTE:
        return _page(
            request, person, found, 400, error=f"A note has at most {MAX_NOTE} characters."
        )
    try:
        changes = editing.changes_from(
            channel_spec(found), found.current_version.fields, request.POST
        )
        if not changes:
            return _page(request, person, found, 400, error="Nothing changed: edit a field first.")
        result, summary = edit_package(
            package_id=found.pk,
            person=person,
            changes=changes,
            note=note,
            base_version=editing.base_version(request.POST),
        )
    except InputError as exc:
        error = "; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in exc.problems)
        return _page(request, person, found, 400, error=error)
    except WorkflowError as exc:
        return _page(request, person, found, exc.http_status, error=f"Refused: {exc.message}")
    messages.success(request, f"{result.message}. " + "; ".join(summary[:3]))
    return redirect("web:package", package_id=found.pk)


@require_POST
@with_person
def package_edit_check(request: HttpRequest, person: Person, package_id: int) -> HttpResponse:
    """The live check: the edit's checks on what is typed now. Saves nothing."""
    found = _editable(person, package_id)
    context: dict = {"person": person, "package": found}
    status = 200
    try:
        changes = editing.changes_from(
            channel_spec(found), found.current_version.fields, request.POST
        )
        context.update(editing.checks(found, changes))
        # Counts by the controls as shown: a cleared list item keeps its place (and count).
        context["counts"] = editing.typed_counts(
            channel_spec(found), request.POST, context["counts"]
        )
    except InputError as exc:
        context.update(editing.checks(found, {}))
        context["problems"] = exc.problems
        status = 400
    context["live"] = True
    return render(request, "web/_edit_checks.html", context, status=status)


def _back(request: HttpRequest, found) -> str:
    """Where a comment form came from (the editor or the package page), never elsewhere."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("web:package", kwargs={"package_id": found.pk})


def _comments(request: HttpRequest, person: Person, found, status: int = 200, **extra):
    back = _back(request, found)
    context = {
        "person": person,
        "package": found,
        "next": back,
        # The package page's aside has h3 sections; the editor's aside, h2.
        "heading": "h2" if back.rstrip("/").endswith("/edit") else "h3",
        **editing.comments_page(found),
        **extra,
    }
    return render(request, "web/_comments.html", context, status=status)


def _offset(value: str) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise InputError.single("an offset is a whole number of characters", field="start")
    return int(value)


@require_POST
@with_person
def package_inline_comment(request: HttpRequest, person: Person, package_id: int) -> HttpResponse:
    """Add a comment, anchored to a passage when a field (and quote or offsets) is given."""
    found = package_for(person, package_id)
    try:
        add_comment(
            package=found,
            person=person,
            text=request.POST.get("text", ""),
            field=request.POST.get("field", ""),
            quote=request.POST.get("quote", ""),
            start=_offset(request.POST.get("start", "")),
            end=_offset(request.POST.get("end", "")),
            via="web",
        )
    except InputError as exc:
        error = "; ".join(p.message for p in exc.problems)
        if request.htmx:
            return _comments(
                request, person, found, 400, comment_error=error, typed=request.POST.get("text", "")
            )
        messages.error(request, f"Comment not saved: {error}")
        return redirect(_back(request, found))
    if request.htmx:
        return _comments(request, person, found)
    messages.success(request, "Comment saved; anyone you mentioned sees it on their dashboard.")
    return redirect(_back(request, found))


@require_POST
@with_person
def comment_resolve(request: HttpRequest, person: Person, comment_id: int) -> HttpResponse:
    try:
        comment = comment_for(person, comment_id)
    except NotFound as exc:
        raise Http404(str(exc)) from None
    found = package_for(person, comment.package_id)
    try:
        resolve_comment(
            comment_id=comment.pk, person=person, note=request.POST.get("note", "")[:MAX_NOTE]
        )
    except WorkflowError as exc:
        if request.htmx:
            return _comments(request, person, found, exc.http_status, comment_error=exc.message)
        messages.error(request, exc.message)
        return redirect(_back(request, found))
    if request.htmx:
        return _comments(request, person, found)
    messages.success(request, "Comment resolved.")
    return redirect(_back(request, found))
