"""The compare screen: variants or versions of one package side by side, rated into memory.

Thin like ``views``: parse the query or the form, call ``compare``, render. htmx requests get
the ``_compare_rating.html`` partial for the candidate just rated; plain requests are
redirected back to the page with a message, so rating works without JavaScript too.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from signoff.core.errors import InputError
from signoff.web import compare
from signoff.web.scope import package_for
from signoff.web.views import with_person
from signoff.workspaces.models import Person


class RatingForm(forms.Form):
    candidate = forms.RegexField(regex=r"^\d+:\d+$", max_length=40)
    rating = forms.TypedChoiceField(coerce=int, choices=[(r, r) for r in compare.RATINGS])
    tags = forms.MultipleChoiceField(
        required=False, choices=[(t, t) for t in compare.TAGS], widget=forms.CheckboxSelectMultiple
    )
    text = forms.CharField(required=False, max_length=2000)


def _url(package_id: int, query: str) -> str:
    url = reverse("web:package-compare", kwargs={"package_id": package_id})
    return f"{url}?{query}" if query else url


def _page(
    request: HttpRequest, person: Person, package_id: int, params: QueryDict, status: int = 200
) -> HttpResponse:
    found = package_for(person, package_id)
    try:
        pairs = compare.choose(found, params.getlist("with"), params.getlist("version"))
    except compare.CompareError as exc:
        context = {"person": person, "package": found, "error": str(exc)}
        return render(request, "web/compare_refused.html", context, status=400)
    query = QueryDict(mutable=True)
    query.setlist("with", params.getlist("with"))
    query.setlist("version", params.getlist("version"))
    context = {
        "person": person,
        "query": query.urlencode(),
        **compare.compare_page(found, person, pairs),
    }
    return render(request, "web/compare.html", context, status=status)


@require_GET
@with_person
def package_compare(request: HttpRequest, person: Person, package_id: int) -> HttpResponse:
    return _page(request, person, package_id, request.GET)


@require_POST
@with_person
def package_compare_rate(request: HttpRequest, person: Person, package_id: int) -> HttpResponse:
    base = package_for(person, package_id)
    form = RatingForm(request.POST)
    query = request.POST.get("query", "")
    error = ""
    note = None
    if not form.is_valid():
        error = "Choose a rating from 1 to 5 (and only the listed tags)."
    else:
        candidate_id, number = (int(p) for p in form.cleaned_data["candidate"].split(":"))
        # The candidate is this package or one of its variants, inside the workspace.
        rated = base if candidate_id == base.pk else package_for(person, candidate_id)
        if rated.pk != base.pk and rated.pk not in {p.pk for p in compare.siblings(base)}:
            return render(
                request,
                "web/compare_refused.html",
                {"person": person, "package": base, "error": "not a variant of this package"},
                status=404,
            )
        try:
            note = compare.rate_candidate(
                person=person,
                package=rated,
                version_number=number,
                rating=form.cleaned_data["rating"],
                tags=form.cleaned_data["tags"],
                text=form.cleaned_data["text"],
            )
        except InputError as exc:
            error = "; ".join(p.message for p in exc.problems)
    if request.htmx:
        context = {"error": error, "note": note, "key": request.POST.get("candidate", "")}
        return render(request, "web/_compare_rating.html", context, status=400 if error else 200)
    if error:
        messages.error(request, f"Not saved: {error}")
        return _page(request, person, base.pk, QueryDict(query), status=400)
    messages.success(request, f"Saved to memory: {note.text}")
    anchor = form.cleaned_data["candidate"].replace(":", "-")
    return redirect(_url(base.pk, QueryDict(query).urlencode()) + f"#candidate-{anchor}")
