"""Review link screens: the guest's (token only) and the content lead's (create, revoke).

The guest's screens take no session and offer nothing but reading the current versions and
commenting: there is no gate form here, and every other screen still needs a signed-in person.
Their responses are never cached and never send the token to another site as a referrer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from signoff.core.errors import InputError, NotFound
from signoff.sharing import services
from signoff.web import throttle
from signoff.web.pages import preview
from signoff.web.views import with_person
from signoff.workflow import WorkflowError
from signoff.workspaces.models import Person

View = Callable[..., HttpResponse]


def guest_view(view: View) -> View:
    """Turn a refused link into 404 (unknown) or 410 (expired, revoked); harden the response.

    Token guessing is throttled per address like sign-in (``signoff.web.throttle``): each
    unknown token counts, and past the limit the address gets 429 with ``Retry-After`` before
    any token it sends is looked up.
    """

    @never_cache
    @wraps(view)
    def wrapper(request: HttpRequest, token: str, *args: Any, **kwargs: Any) -> HttpResponse:
        address = throttle.client_address(request)
        throttle.flush()  # finished minutes of unknown tokens go to the audit log
        wait = throttle.link_refusal(address)
        try:
            if wait is not None:
                throttle.count(throttle.Kind.LINK, address, throttled=True)
                refused = throttle.Throttled(wait)
                response = render(
                    request,
                    "sharing/refused.html",
                    {"reason": "throttled", "throttled": refused},
                    status=429,
                )
                response["Retry-After"] = str(wait)
            else:
                response = view(request, token, *args, **kwargs)
        except services.LinkRefused as exc:
            if exc.reason == "unknown":
                throttle.count(throttle.Kind.LINK, address)
            status = 404 if exc.reason == "unknown" else 410
            response = render(
                request, "sharing/refused.html", {"reason": exc.reason}, status=status
            )
        except NotFound as exc:
            raise Http404(str(exc)) from None
        # same-origin, not no-referrer: the guest's own comment form must carry its origin, or
        # Django's CSRF check sees "Origin: null" and refuses the post.
        response["Referrer-Policy"] = "same-origin"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapper


class CommentForm(forms.Form):
    name = forms.CharField(max_length=services.GUEST_NAME_MAX, label="Your name")
    text = forms.CharField(
        max_length=services.COMMENT_MAX, label="Comment", widget=forms.Textarea(attrs={"rows": 3})
    )


@require_GET
@guest_view
def review(request: HttpRequest, token: str) -> HttpResponse:
    link, packages = services.view_link(token)
    return render(request, "sharing/review.html", {"link": link, "packages": packages})


def _package_context(link: object, package: object, comments: list, form: CommentForm) -> dict:
    version = package.current_version
    return {
        "link": link,
        "package": package,
        # The copy as the channel shows it; findings stay with the team.
        "preview": preview(package, version.fields, []) if version else None,
        "comments": comments,
        "form": form,
    }


@require_GET
@guest_view
def review_package(request: HttpRequest, token: str, package_id: int) -> HttpResponse:
    link, package, comments = services.view_package(token, package_id)
    context = _package_context(link, package, comments, CommentForm())
    return render(request, "sharing/review_package.html", context)


@require_POST
@guest_view
def review_comment(request: HttpRequest, token: str, package_id: int) -> HttpResponse:
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.comment_via_link(
                token,
                package_id,
                guest=form.cleaned_data["name"],
                text=form.cleaned_data["text"],
            )
        except InputError as exc:
            for problem in exc.problems:
                form.add_error(
                    problem.field if problem.field in form.fields else None, problem.message
                )
        else:
            messages.success(request, "Thank you: your comment was sent to the team.")
            return redirect(
                reverse("sharing:package", kwargs={"token": token, "package_id": package_id})
            )
    link, package, comments = services.view_package(token, package_id)
    context = _package_context(link, package, comments, form)
    return render(request, "sharing/review_package.html", context, status=400)


# --- the content lead's side --------------------------------------------------------------


class LinkForm(forms.Form):
    packages = forms.CharField(
        required=False, max_length=5000, label="Package ids (comma separated)"
    )
    brief = forms.SlugField(required=False, label="or a brief")
    channel = forms.CharField(required=False, max_length=100, label="and its channel")
    days = forms.IntegerField(min_value=1, max_value=services.MAX_EXPIRY.days, initial=7)
    note = forms.CharField(required=False, max_length=2000, label="Note to the reviewer")

    def clean_packages(self) -> list[int]:
        raw = [p.strip() for p in self.cleaned_data["packages"].split(",") if p.strip()]
        if not all(p.isdigit() for p in raw):
            raise forms.ValidationError("Package ids are numbers, separated by commas.")
        return [int(p) for p in raw]


@require_http_methods(["GET", "POST"])
@with_person
def links(request: HttpRequest, person: Person) -> HttpResponse:
    initial = {"packages": request.GET.get("packages", ""), "days": 7}
    form = LinkForm(request.POST or None, initial=initial)
    created = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                ids, scope = services.link_scope(
                    person, data["packages"], brief=data["brief"], channel=data["channel"]
                )
                link, token = services.create_review_link(
                    person, ids, timedelta(days=data["days"]), data["note"], scope=scope
                )
            except WorkflowError as exc:
                form.add_error(None, f"Refused ({exc.code.value}): {exc.message}")
                status = 403
            except (InputError, NotFound) as exc:
                problems = getattr(exc, "problems", None)
                form.add_error(
                    None, "; ".join(p.message for p in problems) if problems else str(exc)
                )
            else:
                status = 201
                created = {
                    "link": link,
                    "url": request.build_absolute_uri(
                        reverse("sharing:review", kwargs={"token": token})
                    ),
                }
    context = {
        "person": person,
        "form": form,
        "created": created,
        "links": services.links_of(person),
        "may_create": bool(services.LINK_KEEPERS & set(person.roles)),
    }
    response = render(request, "sharing/links.html", context, status=status)
    response["Cache-Control"] = "no-store"  # the new link's token is on this page, once
    return response


@require_POST
@with_person
def revoke(request: HttpRequest, person: Person, link_id: int) -> HttpResponse:
    try:
        services.revoke_review_link(person, link_id)
    except NotFound as exc:
        raise Http404(str(exc)) from None
    except WorkflowError as exc:
        messages.error(request, f"Refused ({exc.code.value}): {exc.message}")
    else:
        messages.success(request, f"Review link {link_id} revoked: it no longer opens.")
    return redirect("sharing:links")
