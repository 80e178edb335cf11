"""Compare image providers on one SKU, side by side, and keep an option worth keeping.

The same services as ``signoff images compare`` and ``POST /api/briefs/{slug}/images/compare``
(``visuals.comparisons``): the comparison runs in the request (R&D on one SKU), its options
wait in the scratch area for a day, for the person who ran it only, and nothing enters the
content store until they press "Keep as option"; that makes an image version of the brief and
opens its page.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from signoff.briefs.authority import may_run
from signoff.briefs.models import Brief
from signoff.core.errors import InputError, NotFound
from signoff.visuals import compare_scratch
from signoff.visuals.comparisons import (
    MAX_PROVIDERS,
    held_comparison,
    keep_compared,
    option_summary,
    run_comparison,
)
from signoff.visuals.generation import MAX_OPTIONS
from signoff.visuals.providers.registry import IMAGE_PROVIDERS
from signoff.web.scope import brief_for
from signoff.web.views import with_person
from signoff.web.views_images import CONTENT_TYPES, SEVERITIES, _form_errors, _products
from signoff.workflow import WorkflowError
from signoff.workspaces.models import Person


class CompareForm(forms.Form):
    sku = forms.ChoiceField(label="SKU")
    providers = forms.MultipleChoiceField(
        label="Providers", required=False, widget=forms.CheckboxSelectMultiple
    )
    others = forms.CharField(
        label="Other providers",
        required=False,
        max_length=500,
        help_text="provider:model, comma-separated (openai:gpt-image-2)",
    )
    n = forms.IntegerField(label="Options per provider", min_value=1, max_value=MAX_OPTIONS)

    def __init__(self, *args: object, brief: Brief, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["sku"].choices = [(s, f"{s} · {n}" if n else s) for s, n in _products(brief)]
        self.fields["providers"].choices = [(k, k) for k in IMAGE_PROVIDERS]
        self.fields["n"].widget.attrs.update({"min": 1, "max": MAX_OPTIONS})

    def specs(self) -> list[str]:
        others = [s.strip() for s in self.cleaned_data["others"].split(",") if s.strip()]
        return [*self.cleaned_data["providers"], *others]


class KeepForm(forms.Form):
    option = forms.CharField(max_length=200)
    note = forms.CharField(required=False, max_length=2000)


def _page(
    request: HttpRequest,
    person: Person,
    brief: Brief,
    held: compare_scratch.Held | None = None,
    form: CompareForm | None = None,
) -> HttpResponse:
    if form is None:
        initial = {"providers": ["builtin"], "n": 1}
        if held is not None:
            initial["sku"] = held.sku
        form = CompareForm(initial=initial, brief=brief)
    options = []
    for n, option in enumerate(held.options if held else (), 1):
        summary = option_summary(option)
        counts = {s: sum(f["severity"] == s for f in option.findings) for s in SEVERITIES}
        options.append({**summary, "number": n, "counts": counts, "has_file": bool(option.file)})
    prompts = list(dict.fromkeys(o["prompt"] for o in options if o["prompt"]))
    context = {
        "person": person,
        "brief": brief,
        "form": form,
        "held": held,
        "options": options,
        "prompts": prompts,
        "may_run": may_run(person, brief),
        "max_providers": MAX_PROVIDERS,
        "hours": int(compare_scratch.TTL.total_seconds() // 3600),
    }
    return render(request, "web/images/compare.html", context)


def _held(person: Person, brief: Brief, token: str) -> compare_scratch.Held:
    try:
        return held_comparison(brief=brief, person=person, token=token)
    except NotFound as exc:
        raise Http404(str(exc)) from None


def _refused(request: HttpRequest, exc: WorkflowError | InputError) -> None:
    if isinstance(exc, InputError):
        text = "; ".join(str(p) for p in exc.problems)  # each with its field
    elif exc.gate:
        # The service's sentence names a command; on the web the brief page is where to go.
        who = " or ".join(sorted(str(r) for r in exc.required_roles)) or "its gate owner"
        text = f"{exc.message.split(';')[0]}; a {who} can approve it on the brief page"
    else:
        text = exc.message
    messages.error(request, f"Refused ({exc.code}): {text}")


@require_GET
@with_person
def images_compare(request: HttpRequest, person: Person, slug: str) -> HttpResponse:
    return _page(request, person, brief_for(person, slug))


@require_GET
@with_person
def images_compared(request: HttpRequest, person: Person, slug: str, token: str) -> HttpResponse:
    brief = brief_for(person, slug)
    try:
        held = held_comparison(brief=brief, person=person, token=token)
    except NotFound:
        messages.error(
            request,
            f"That comparison is no longer held: comparisons are kept "
            f"{int(compare_scratch.TTL.total_seconds() // 3600)} hours, for the person who ran "
            "them, until every option is kept. Run it again.",
        )
        return redirect("web:images-compare", slug=brief.slug)
    return _page(request, person, brief, held)


@require_POST
@with_person
def images_compare_run(request: HttpRequest, person: Person, slug: str) -> HttpResponse:
    brief = brief_for(person, slug)
    form = CompareForm(request.POST, brief=brief)
    if not form.is_valid():
        messages.error(request, f"Nothing compared: {_form_errors(form)}")
        return _page(request, person, brief, form=form)
    try:
        held = run_comparison(
            brief=brief,
            person=person,
            sku=form.cleaned_data["sku"],
            providers=form.specs(),
            n=form.cleaned_data["n"],
        )
    except (WorkflowError, InputError) as exc:
        _refused(request, exc)
        return _page(request, person, brief, form=form)
    made = sum(bool(o.file) for o in held.options)
    messages.success(
        request,
        f"{made} of {len(held.options)} options made. Nothing is stored until you keep one.",
    )
    return redirect("web:images-compared", slug=brief.slug, token=held.token)


@require_POST
@with_person
def images_compare_keep(
    request: HttpRequest, person: Person, slug: str, token: str
) -> HttpResponse:
    brief = brief_for(person, slug)
    form = KeepForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Nothing kept: {_form_errors(form)}")
        return redirect("web:images-compared", slug=brief.slug, token=token)
    try:
        image = keep_compared(
            brief=brief,
            person=person,
            token=token,
            option=form.cleaned_data["option"],
            note=form.cleaned_data["note"],
        )
    except NotFound as exc:
        raise Http404(str(exc)) from None
    except (WorkflowError, InputError) as exc:
        _refused(request, exc)
        return redirect("web:images-compared", slug=brief.slug, token=token)
    messages.success(
        request,
        f"Kept {form.cleaned_data['option']} as option {image.number} of {image.sku}.",
    )
    return redirect("web:image", image_id=image.pk)


@require_GET
@with_person
def compare_option_file(
    request: HttpRequest, person: Person, slug: str, token: str, number: int
) -> HttpResponse:
    """An option's image from the scratch area, to the person who ran the comparison only."""
    held = _held(person, brief_for(person, slug), token)
    if not 1 <= number <= len(held.options):
        raise Http404(f"no option {number}")
    option = held.options[number - 1]
    try:
        data = compare_scratch.read_option(held, option)
    except NotFound as exc:
        raise Http404(str(exc)) from None
    response = HttpResponse(
        data, content_type=CONTENT_TYPES.get(option.format, "application/octet-stream")
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response
