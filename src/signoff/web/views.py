"""The screens. Each view parses input, calls one service or page builder, and renders.

htmx requests get the partial (templates starting with ``_``); plain requests get the page,
so every screen also works without JavaScript.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from signoff.briefs.models import Brief
from signoff.comments.services import add_comment
from signoff.core import labels
from signoff.core.errors import InputError, NotFound
from signoff.feeds import formats_for
from signoff.outbox.selectors import matrix_deliveries
from signoff.packages.models import Package
from signoff.web import actions, pages, queue, throttle
from signoff.web.accounts import person_of
from signoff.web.approval_matrix import matrix_page
from signoff.web.brief_list import brief_rows
from signoff.web.brief_page import brief_page
from signoff.web.editing import comments_page
from signoff.web.forms import (
    ApproveForLaunchForm,
    BatchForm,
    BoardFilterForm,
    BriefApproveForm,
    DecisionForm,
    FixForm,
    LaunchForm,
    MatrixApproveForm,
    SignInForm,
)
from signoff.web.models import SavedView
from signoff.web.scope import brief_for, package_for
from signoff.workspaces.models import Person

View = Callable[..., HttpResponse]


def with_person(view: View) -> View:
    """Require a signed-in, active workspace person and pass it to the view."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        person = person_of(request.user)
        if person is None:
            raise PermissionDenied("not an active member of a workspace")
        request.signoff_person = person  # for the header (signoff.web.context_processors)
        return view(request, person, *args, **kwargs)

    return wrapper


class SignInView(auth_views.LoginView):
    """Email and password; throttled per account and per address, and audited.

    A throttled attempt is answered 429 before its password is checked. Every failure is
    counted alike, whether or not the email belongs to anyone (``signoff.web.throttle``).
    """

    template_name = "web/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    @method_decorator(sensitive_post_parameters())  # before anything here could fail
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        throttle.flush()  # finished minutes of failures go to the audit log
        self.address = throttle.client_address(request)
        self.account = throttle.account_key(request.POST.get("username", ""))
        return super().dispatch(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        wait = throttle.signin_refusal(self.account, self.address)
        if wait is not None:
            throttle.count(throttle.Kind.SIGNIN, self.address, self.account, throttled=True)
            context = self.get_context_data(
                form=self.get_form_class()(request), throttled=throttle.Throttled(wait)
            )
            response = self.render_to_response(context, status=429)
            response["Retry-After"] = str(wait)
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: SignInForm) -> HttpResponse:
        if form.non_field_errors():  # the credentials were checked (not just a field missing)
            throttle.count(throttle.Kind.SIGNIN, self.address, self.account)
        return super().form_invalid(form)

    def form_valid(self, form: SignInForm) -> HttpResponse:
        with transaction.atomic():  # signed in and recorded, or neither
            response = super().form_valid(form)
            person = person_of(form.get_user())
            if person is not None:
                throttle.record_signin(person, self.address)
        return response


class SignOutView(auth_views.LogoutView):
    pass


@require_GET
@with_person
def home(request: HttpRequest, person: Person) -> HttpResponse:
    rows = brief_rows(person.workspace_id)
    return render(request, "web/home.html", {"person": person, "rows": rows})


# --- board ----------------------------------------------------------------------------------


def _board_context(request: HttpRequest, person: Person, brief: Brief) -> dict:
    form = BoardFilterForm(request.GET, choices=pages.board_choices(brief))
    query = form.query()
    params = request.GET.copy()
    params.pop("page", None)
    return {
        "person": person,
        "brief": brief,
        "filters": form,
        "query": query,
        "filter_params": params.urlencode(),
        "people": actions.reassign_choices(person),
        "saved_views": SavedView.objects.filter(person=person),
        **pages.board_page(brief, person, query),
    }


@require_GET
@with_person
def board(request: HttpRequest, person: Person, slug: str) -> HttpResponse:
    brief = brief_for(person, slug)
    if request.htmx and request.htmx.target == "blocking":
        context = {"brief": brief, "blocking": pages.blocking_panel(brief)}
        return render(request, "web/_blocking.html", context)
    context = _board_context(request, person, brief)
    if request.htmx and request.htmx.target == "board-table":
        return render(request, "web/_board_table.html", context)
    context["blocking"] = pages.blocking_panel(brief)
    return render(request, "web/board.html", context)


@require_POST
@with_person
def board_batch(request: HttpRequest, person: Person, slug: str) -> HttpResponse:
    brief = brief_for(person, slug)
    form = BatchForm(request.POST)
    results = []
    error = ""
    if form.is_valid():
        results = actions.decide_packages(
            form.cleaned_data["ids"],
            person=person,
            action=form.cleaned_data["action"],
            note=form.cleaned_data["note"],
            owner=form.cleaned_data["owner"],
        )
    elif form.has_error("ids", "batch_limit"):
        error = " ".join(form.errors["ids"])
    else:
        error = "Select at least one package and an action."
    context = {"brief": brief, "results": results, "error": error}
    if request.htmx:
        # 200 even when refused: htmx swaps only successful answers into #batch-results.
        response = render(request, "web/_batch_results.html", context)
        response["HX-Trigger"] = "board-changed"
        return response
    context.update(_board_context(request, person, brief))
    context["blocking"] = pages.blocking_panel(brief)
    return render(request, "web/board.html", context, status=400 if error else 200)


# --- package --------------------------------------------------------------------------------


@require_GET
@with_person
def package(request: HttpRequest, person: Person, package_id: int) -> HttpResponse:
    found = package_for(person, package_id)
    context = {"person": person, "queue": queue.place(found, person)}
    context.update(comments_page(found))  # inline comments (signoff.web.editing)
    return render(request, "web/package.html", {**context, **pages.package_page(found, person)})


@require_POST
@with_person
def package_decide(request: HttpRequest, person: Person, package_id: int) -> HttpResponse:
    found = package_for(person, package_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        result = None
        outcome = actions.Outcome(False, "Choose review, approve or reject.", InputError.code)
    else:
        (result,) = actions.decide_packages(
            [found.pk],
            person=person,
            action=form.cleaned_data["action"],
            note=form.cleaned_data["note"],
        )
        outcome = actions.Outcome(result.ok, result.message, result.code or "")
    if request.htmx and not outcome.ok:
        # A refusal changes nothing: show the reason in the panel, keep the note typed.
        context = {
            "outcome": actions.Outcome(False, _plain(request, outcome.message), outcome.code),
            "note": request.POST.get("note", ""),
            **pages.gate_panel(found, person),
        }
        return render(request, "web/_gate_panel.html", context)
    _flash(request, outcome)
    # A decision done, the reviewer moves on to the next package in their queue; marking
    # reviewed only stays (the approval usually follows).
    target = reverse("web:package", kwargs={"package_id": found.pk})
    if outcome.ok and form.cleaned_data["action"] in DECISIONS:
        target = _next_in_queue(request, person, found)
    if request.htmx:
        # The whole page changed (state, versions, audit): load the next one with the message.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return redirect(target)


DECISIONS = ("approve", "reject", "review_approve")


def _next_in_queue(request: HttpRequest, person: Person, found: Package) -> str:
    following = queue.place(found, person).next
    if following is None:
        messages.info(request, "Your queue on this brief is empty: nothing else waits on you.")
        return reverse("web:board", kwargs={"slug": found.brief.slug})
    messages.info(request, f"Next in your queue: package #{following}.")
    return reverse("web:package", kwargs={"package_id": following})


@require_POST
@with_person
def package_fix(request: HttpRequest, person: Person, package_id: int) -> HttpResponse:
    found = package_for(person, package_id)
    form = FixForm(request.POST)
    if form.is_valid():
        try:
            outcome = actions.apply_fix(found, form.cleaned_data["finding"], person=person)
        except NotFound as exc:  # a finding of an older version is gone
            raise Http404(str(exc)) from None
        _flash(request, outcome)
    else:
        messages.error(request, "No such finding.")
    return redirect("web:package", package_id=found.pk)


@require_POST
@with_person
def package_comment(request: HttpRequest, person: Person, package_id: int) -> HttpResponse:
    found = package_for(person, package_id)
    try:
        add_comment(package=found, person=person, text=request.POST.get("text", ""), via="web")
    except InputError as exc:
        messages.error(request, "; ".join(p.message for p in exc.problems))
    else:
        messages.success(request, "Comment saved; later drafts of this SKU and channel read it.")
    return redirect("web:package", package_id=found.pk)


# --- brief and matrix -----------------------------------------------------------------------


@require_GET
@with_person
def brief(request: HttpRequest, person: Person, slug: str) -> HttpResponse:
    found = brief_for(person, slug)
    shown = brief_page(found, request.GET.get("page", 1), request.GET.get("refs", 1))
    context = {"person": person, "form": BriefApproveForm(), **shown}
    return render(request, "web/brief.html", context)


@require_POST
@with_person
def brief_approve(request: HttpRequest, person: Person, slug: str) -> HttpResponse:
    found = brief_for(person, slug)
    form = BriefApproveForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    _flash(request, actions.approve_brief_g1(found, person=person, note=note))
    return redirect("web:brief", slug=found.slug)


def _matrix(request: HttpRequest, person: Person, brief: Brief, **extra: Any) -> HttpResponse:
    context = {"person": person, **matrix_page(brief, person), **extra}
    for column in context["columns"]:  # a launched channel offers its feeds, its own first
        column["feeds"] = formats_for(column["channel"]) if column["launch"] else []
    # Each package's delivery per destination, and each channel's counts (signoff.outbox).
    sent = matrix_deliveries(brief)
    context["deliveries"] = sent["by_package"]
    for column in context["columns"]:
        column["destinations"] = sent["by_channel"].get(column["channel"], [])
    return render(request, "web/matrix.html", context)


@require_GET
@with_person
def matrix(request: HttpRequest, person: Person, slug: str) -> HttpResponse:
    return _matrix(request, person, brief_for(person, slug))


@require_POST
@with_person
def matrix_approve(request: HttpRequest, person: Person, slug: str) -> HttpResponse:
    """Approve one cell at the launch gate (G4)."""
    found = brief_for(person, slug)
    form = MatrixApproveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a package to approve.")
    else:
        package = package_for(person, form.cleaned_data["package"])
        if package.brief_id != found.pk:
            raise Http404(f"no package {package.pk} in {found.slug}")
        _flash(request, actions.approve_at_launch_gate(found, package.pk, person=person))
    return redirect(reverse("web:matrix", kwargs={"slug": found.slug}))


@require_POST
@with_person
def matrix_approve_channel(request: HttpRequest, person: Person, slug: str) -> HttpResponse:
    """Approve for launch: a batch over the channel's packages at G4, one result per item."""
    found = brief_for(person, slug)
    form = ApproveForLaunchForm(request.POST)
    if not form.is_valid():
        return _matrix(request, person, found, error="Choose a channel to approve for launch.")
    channel = form.cleaned_data["channel"]
    results = actions.approve_for_launch(found, channel, person=person)
    error = "" if results else f"No {channel} package waits on the launch gate."
    return _matrix(request, person, found, results=results, error=error, batch_channel=channel)


@require_POST
@with_person
def launch(request: HttpRequest, person: Person, slug: str) -> HttpResponse:
    found = brief_for(person, slug)
    form = LaunchForm(request.POST)
    if form.is_valid():
        _flash(request, actions.launch(found, form.cleaned_data["channel"], person=person))
    else:
        messages.error(
            request, "Nothing launched: tick the box to confirm that launch cannot be undone."
        )
    return redirect(reverse("web:matrix", kwargs={"slug": found.slug}))


def _flash(request: HttpRequest, outcome: actions.Outcome) -> None:
    message = _plain(request, outcome.message)
    if outcome.ok:
        messages.success(request, message)
    else:
        code = f" ({outcome.code})" if outcome.code else ""  # the API's code, for support
        messages.error(request, f"Refused{code}: {message}")


def _plain(request: HttpRequest, message: str) -> str:
    """A whole message in plain words: people by name, roles in words (signoff.core.labels)."""
    viewer = person_of(request.user)
    if viewer is None:
        return labels.plain_message(message)
    people = Person.objects.filter(workspace_id=viewer.workspace_id)
    return labels.plain_message(message, dict(people.values_list("email", "name")))
