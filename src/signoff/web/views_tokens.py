"""The Tokens page: a person's API tokens (a workspace admin: everyone's there).

Issue one for yourself (shown once), see when each was last used and when it expires, revoke.
Nobody issues a token for someone else here: a token acts as its person.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from signoff.core.errors import InputError, NotFound
from signoff.web.views import with_person
from signoff.workflow import WorkflowError
from signoff.workspaces import tokens as services
from signoff.workspaces.models import Person

LIST_LIMIT = 500


class IssueForm(forms.Form):
    days = forms.IntegerField(
        min_value=1, max_value=services.MAX_DAYS, label="Expires after (days)"
    )


@require_http_methods(["GET", "POST"])
@with_person
def tokens(request: HttpRequest, person: Person) -> HttpResponse:
    initial = {"days": getattr(settings, "SIGNOFF_TOKEN_DAYS", services.DEFAULT_DAYS)}
    form = IssueForm(request.POST or None, initial=initial)
    created = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                token, key = services.issue_own_token(person, days=form.cleaned_data["days"])
            except (InputError, NotFound) as exc:
                problems = getattr(exc, "problems", None)
                form.add_error(
                    None, "; ".join(p.message for p in problems) if problems else str(exc)
                )
            else:
                status = 201
                created = {"token": token, "key": key}
    context = {
        "person": person,
        "form": form,
        "created": created,
        "tokens": services.tokens_of(person)[:LIST_LIMIT],
        "is_admin": services.is_token_admin(person),
        "now": timezone.now(),
    }
    response = render(request, "web/tokens.html", context, status=status)
    response["Cache-Control"] = "no-store"  # a new token is on this page, once
    return response


@require_POST
@with_person
def token_revoke(request: HttpRequest, person: Person, token_id: int) -> HttpResponse:
    try:
        token = services.revoke_token(person=person, token_id=token_id)
    except NotFound as exc:
        raise Http404(str(exc)) from None
    except WorkflowError as exc:
        messages.error(request, f"Refused ({exc.code.value}): {exc.message}")
    else:
        messages.success(
            request,
            f"Token {token.prefix}... of {token.person.email} is revoked: it never works again.",
        )
    return redirect("web:tokens")
