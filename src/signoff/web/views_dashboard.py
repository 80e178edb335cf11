"""The dashboard screen: one person's widgets, and the changes they make to their layout.

Thin like ``views``: parse the input, call ``dashboards``, render. htmx requests get the
``_widget_layout.html`` partial; plain requests get the page (or a redirect after a change),
so arranging works without JavaScript too.
"""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from signoff.web import dashboards
from signoff.web.role_dashboard import role_panels
from signoff.web.views import with_person
from signoff.workspaces.models import Person

PARTIAL = "web/_widget_layout.html"


class LayoutForm(forms.Form):
    """One layout change. The widget name is checked by the registry, not here, so an unknown
    name gets the registry's message listing the known ones."""

    action = forms.ChoiceField(choices=[(a, a) for a in ("add", "remove", "up", "down", "reset")])
    widget = forms.CharField(required=False, max_length=100)


@require_GET
@with_person
def dashboard(request: HttpRequest, person: Person) -> HttpResponse:
    context = {"person": person, **dashboards.dashboard_page(person)}
    if request.htmx and request.htmx.target == "dashboard-widgets":
        return render(request, PARTIAL, context)
    context["role"] = role_panels(person)  # what the person's roles decide (its own include)
    return render(request, "web/dashboard.html", context)


@require_POST
@with_person
def dashboard_layout(request: HttpRequest, person: Person) -> HttpResponse:
    form = LayoutForm(request.POST)
    error = ""
    if not form.is_valid():
        error = "Choose add, remove, up, down or reset."
    else:
        try:
            dashboards.change_layout(
                person, form.cleaned_data["action"], form.cleaned_data["widget"]
            )
        except dashboards.UnknownWidget as exc:
            error = str(exc)
    if error:
        # Nothing changed: say why, with the dashboard as it still is.
        context = {"person": person, "error": error, **dashboards.dashboard_page(person)}
        template = PARTIAL if request.htmx else "web/dashboard.html"
        return render(request, template, context, status=400)
    if request.htmx:
        context = {"person": person, **dashboards.dashboard_page(person)}
        return render(request, PARTIAL, context)
    return redirect("web:dashboard")


@require_POST
@with_person
def dashboard_digest(request: HttpRequest, person: Person) -> HttpResponse:
    """Turn the person's daily digest on or off (``signoff.notifications``)."""
    from signoff.notifications.services import set_digest

    choice = request.POST.get("digest")
    if choice not in ("on", "off"):
        return HttpResponse("Choose on or off.", status=400, content_type="text/plain")
    set_digest(person=person, on=choice == "on")
    return redirect("web:dashboard")
