"""Your dashboard: its widgets with their data (what the screen draws, from the same
``signoff.web.dashboards`` builders), and its layout: which widgets, in which order."""

from django.http import HttpRequest
from ninja import Router

from signoff.api.errors import error_responses
from signoff.api.schemas import DashboardOut, LayoutChangeIn, LayoutOut
from signoff.api.schemas.registry import RoleDashboardOut
from signoff.core.errors import InputError, Problem
from signoff.web import dashboards
from signoff.web.role_dashboard import role_panels

router = Router(tags=["dashboard"])


def _widget(name: str) -> dict:
    widget = dashboards.WIDGETS[name]
    return {"name": widget.name, "title": widget.title, "description": widget.description}


def _layout(widgets: list[str]) -> dict:
    return {
        "widgets": [_widget(name) for name in widgets],
        "addable": [_widget(name) for name in dashboards.WIDGETS if name not in widgets],
    }


@router.get("", response={200: DashboardOut, **error_responses()})
def dashboard(request: HttpRequest) -> dict:
    """Your widgets in order, each with the data the dashboard screen shows for it; the list
    widgets carry their first ten rows and a total."""
    page = dashboards.dashboard_page(request.auth)
    return {
        "widgets": [{**_widget(w["widget"].name), "data": w["data"]} for w in page["widgets"]],
        "addable": [_widget(w.name) for w in page["addable"]],
    }


@router.get("/layout", response={200: LayoutOut, **error_responses()})
def layout(request: HttpRequest) -> dict:
    """Your widgets in order: your roles' defaults until you change them."""
    return _layout(dashboards.layout_for(request.auth))


@router.post("/layout", response={200: LayoutOut, **error_responses(400)})
def change(request: HttpRequest, payload: LayoutChangeIn) -> dict:
    """Add, remove or move (``up``, ``down``) one widget, or ``reset`` to your roles'
    defaults. The layout is saved and the same on every device; an unknown widget is a 422
    listing the known ones."""
    try:
        widgets = dashboards.change_layout(request.auth, payload.action, payload.widget)
    except dashboards.UnknownWidget as exc:
        raise InputError([Problem(str(exc), field="widget")]) from exc
    return _layout(widgets)


@router.get("/role", response={200: RoleDashboardOut, **error_responses()})
def role(request: HttpRequest) -> dict:
    """What your roles decide, as the dashboard shows above its widgets: comments that mention
    you (everyone); the claims registry at a glance (compliance); per brief and channel, what
    is ready to launch against the deadline (CMO); per brief, the set's coherence and outcomes
    (CEO). A section your roles do not decide on is null."""
    panels = role_panels(request.auth)
    if panels["cmo_plan"] is not None:
        panels["cmo_plan"] = [
            {**b, "brief": b["brief"].slug, "name": b["brief"].name} for b in panels["cmo_plan"]
        ]
    if panels["ceo_set"] is not None:
        panels["ceo_set"] = [
            {**b, "brief": b["brief"].slug, "name": b["brief"].name} for b in panels["ceo_set"]
        ]
    return panels
