"""What every page's header needs: the signed-in person, for views that do not pass one."""

from __future__ import annotations

from django.http import HttpRequest


def signed_in(request: HttpRequest) -> dict:
    """``person``: the one ``with_person`` found for this request (a view's own wins)."""
    person = getattr(request, "signoff_person", None)
    return {"person": person} if person is not None else {}
