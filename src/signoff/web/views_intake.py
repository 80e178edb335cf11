"""Brief intake, the run button with its live progress, and data requests.

Thin like ``views``: parse the input, call ``intake`` (which calls the services), render.
htmx requests get the partials (``_run_progress.html``, ``_data_requests.html``); plain
requests get a page or a redirect, so every action also works without JavaScript.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import yaml
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from signoff.briefs import authority
from signoff.core.errors import InputError
from signoff.web import intake
from signoff.web.intake_form import (
    ProposalForm,
    brief_from_form,
    initial_from_proposal,
    product_problems,
)
from signoff.web.scope import brief_for
from signoff.web.views import with_person
from signoff.workflow import AuthorityError
from signoff.workspaces.models import Person

MAX_UPLOAD = 2 * 1024 * 1024  # a brief or a PIM export; anything bigger is not one


class UploadForm(forms.Form):
    brief_file = forms.FileField(label="Brief YAML", required=False)
    brief_yaml = forms.CharField(
        label="Brief YAML", required=False, widget=forms.Textarea(attrs={"rows": 24})
    )
    products_csv = forms.FileField(label="Products CSV (optional)", required=False)

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("brief_file") and not (data.get("brief_yaml") or "").strip():
            raise forms.ValidationError("Choose a brief YAML file or paste the brief.")
        for name in ("brief_file", "products_csv"):
            upload = data.get(name)
            if upload is not None and upload.size > MAX_UPLOAD:
                self.add_error(name, "That file is too big for a brief (2 MB at most).")
        return data

    def texts(self) -> tuple[str, str | None, str]:
        """Return the brief text, the CSV text (or None) and the brief's file name."""
        upload = self.cleaned_data.get("brief_file")
        if upload is not None:
            brief_text, name = _decode(upload.read()), upload.name
        else:
            brief_text, name = self.cleaned_data["brief_yaml"], "brief.yaml"
        csv = self.cleaned_data.get("products_csv")
        return brief_text, (_decode(csv.read()) if csv is not None else None), name


class NotesForm(forms.Form):
    notes = forms.CharField(
        label="Kickoff notes", max_length=50_000, widget=forms.Textarea(attrs={"rows": 14})
    )


class FieldsForm(forms.Form):
    slug = forms.SlugField(label="Brief id", max_length=100)
    name = forms.CharField(max_length=200)
    channels = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple)
    audience = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    key_messages = forms.CharField(
        label="Key messages (one a line)", widget=forms.Textarea(attrs={"rows": 4})
    )
    deadline = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    products_csv = forms.FileField(label="Products CSV")

    def __init__(self, *args: object, channels: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channels"].choices = [(c, c) for c in channels]


class DataRequestForm(forms.Form):
    sku = forms.CharField(max_length=100)
    fact = forms.CharField(max_length=100)
    operator = forms.EmailField()


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8-sig", errors="replace")


def _require_intake(person: Person) -> None:
    try:
        authority.ensure_may_add_briefs(person)
    except AuthorityError as exc:
        raise PermissionDenied(exc.message) from exc


def _intake_page(
    request: HttpRequest, person: Person, status: int = 200, **context
) -> HttpResponse:
    context.setdefault("mode", "upload")
    context.setdefault("upload", UploadForm())
    context.setdefault("notes_form", NotesForm())
    context.setdefault("fields_form", FieldsForm(channels=intake.workspace_channels(person)))
    return render(request, "web/intake.html", {"person": person, **context}, status=status)


def _added(request: HttpRequest, result: intake.Intake) -> HttpResponse:
    report = result.report
    products = report.version.products.count()
    conflicts = f"; {len(report.conflicts)} conflicts, the CSV wins" if report.conflicts else ""
    messages.success(
        request,
        f"Brief {result.brief.slug} added as version {report.version.number} "
        f"with {products} products{conflicts}.",
    )
    return redirect("web:brief", slug=result.brief.slug)


@require_http_methods(["GET", "POST"])
@with_person
def brief_new(request: HttpRequest, person: Person) -> HttpResponse:
    """Add a brief: upload YAML (+ CSV), paste kickoff notes, or fill in the main fields.

    Notes go to the builtin parser in the request, or, where the brief parser is a model, to
    a worker: the page then shows that notes parse (``?parse=<id>``) until it is done.
    """
    _require_intake(person)
    if request.method == "GET":
        if "parse" in request.GET:
            return _notes_parse(request, person, request.GET["parse"])
        return _intake_page(request, person, mode=request.GET.get("mode", "upload"))
    mode = request.POST.get("mode", "upload")
    if mode == "notes":
        form = NotesForm(request.POST)
        if not form.is_valid():
            return _intake_page(request, person, 400, mode="notes", notes_form=form)
        if intake.parses_in_background(person):
            # A model reads the notes in a worker, never in this request: show the row.
            parse = intake.queue_notes_parse(person, form.cleaned_data["notes"])
            return redirect(f"{reverse('web:brief-new')}?{urlencode({'parse': parse.pk})}")
        proposed = intake.propose_from_notes(person, form.cleaned_data["notes"])
        upload = UploadForm(initial={"brief_yaml": proposed.yaml})
        return _intake_page(
            request,
            person,
            mode="review",
            notes_form=form,
            proposed=proposed,
            upload=upload,
            proposal=_proposal_form(person, proposed.brief, proposed=proposed),
        )
    if mode == "proposal":
        return _add_proposal(request, person)
    if mode == "fields":
        form = FieldsForm(request.POST, request.FILES, channels=intake.workspace_channels(person))
        if not form.is_valid():
            return _intake_page(request, person, 400, mode="fields", fields_form=form)
        brief_text = intake.brief_yaml_from_fields(person, form.cleaned_data)
        result = intake.add_uploaded_brief(
            person, brief_text, _decode(form.cleaned_data["products_csv"].read())
        )
        if result.brief is None:
            return _intake_page(
                request, person, 400, mode="fields", fields_form=form, problems=result.problems
            )
        return _added(request, result)
    form = UploadForm(request.POST, request.FILES)
    page_mode = "review" if mode == "review" else "upload"
    if not form.is_valid():
        return _intake_page(request, person, 400, mode=page_mode, upload=form)
    brief_text, csv_text, name = form.texts()
    result = intake.add_uploaded_brief(person, brief_text, csv_text, name=name)
    if result.brief is None:
        return _intake_page(
            request, person, 400, mode=page_mode, upload=form, problems=result.problems
        )
    return _added(request, result)


def _proposal_form(
    person: Person, brief: dict, data=None, files=None, *, proposed=None
) -> ProposalForm:
    """The review form for a proposed brief: its channels first, then the workspace's.

    Its hidden ``other`` carries what the page shows beside the form (open questions, what
    was flagged, products mentioned, the YAML), so a refused form is shown again with them.
    """
    channels = list(dict.fromkeys([*brief.get("channels", []), *intake.workspace_channels(person)]))
    if data is not None:
        return ProposalForm(data, files, channels=channels)
    initial = initial_from_proposal(brief)
    kept = [
        {"kind": r.get("kind"), "note": r.get("note")}
        for r in brief.get("references", [])
        if isinstance(r, dict) and r.get("note") and not r.get("path")
    ]
    other: dict = {"references": kept}
    if proposed is not None:
        other["proposed"] = {
            "yaml": proposed.yaml,
            "open_questions": proposed.open_questions,
            "findings": proposed.findings,
            "mentioned_products": proposed.mentioned_products,
        }
    initial["other"] = json.dumps(other)
    return ProposalForm(initial=initial, channels=channels)


def _texts(values: object, limit: int = 100) -> list[str]:
    return [str(v)[:2000] for v in values[:limit]] if isinstance(values, list) else []


def _entries(values: object, keys: tuple[str, ...], limit: int = 100) -> list[dict]:
    if not isinstance(values, list):
        return []
    return [
        {k: str(v.get(k) or "")[:2000] for k in keys} for v in values[:limit] if isinstance(v, dict)
    ]


def _kept_proposal(raw: str) -> intake.ProposedBrief | None:
    """What the review page showed beside the form, carried in ``other`` (text only: it came
    back from the browser, and is only shown, never stored)."""
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return None
    shown = data.get("proposed") if isinstance(data, dict) else None
    if not isinstance(shown, dict):
        return None
    return intake.ProposedBrief(
        yaml=str(shown.get("yaml") or "")[:50_000],
        open_questions=_texts(shown.get("open_questions")),
        findings=_entries(shown.get("findings"), ("rule_id", "severity", "message", "excerpt")),
        mentioned_products=_entries(shown.get("mentioned_products"), ("name", "size")),
    )


def _kept_references(raw: str) -> list[dict]:
    """The proposal's note-only references, carried through the form (never a file path)."""
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return []
    entries = data.get("references", []) if isinstance(data, dict) else []
    return [
        {"kind": str(e["kind"]), "note": str(e["note"])[:2000]}
        for e in entries
        if isinstance(e, dict) and e.get("kind") and e.get("note")
    ][:50]


def _add_proposal(request: HttpRequest, person: Person) -> HttpResponse:
    """Add the reviewed proposal with its products and images, or show what stopped it."""
    brief = {"channels": request.POST.getlist("channels")}
    form = _proposal_form(person, brief, request.POST, request.FILES)

    def again(problems: list | None = None) -> HttpResponse:
        # The same review page, with what was typed, the errors, and the proposal's context.
        context: dict = {"proposal": form, "problems": problems or []}
        proposed = _kept_proposal(request.POST.get("other", ""))
        if proposed is not None:
            context["proposed"] = proposed
            context["upload"] = UploadForm(initial={"brief_yaml": proposed.yaml})
        return _intake_page(request, person, 400, mode="review", **context)

    if not form.is_valid():
        return again()
    data = form.cleaned_data
    problems = product_problems(data.get("products", ""))
    if problems:
        return again(problems)
    built = brief_from_form(
        data,
        workspace=person.workspace.slug,
        owner=person.email,
        notes_references=_kept_references(data.get("other", "")),
    )
    csv = data.get("products_csv")
    result = intake.add_reviewed_brief(
        person,
        yaml.safe_dump(built, sort_keys=False, allow_unicode=True),
        _decode(csv.read()) if csv is not None else None,
        packshots=[(f.name, f.read()) for f in data.get("packshots", [])],
        references=[(f.name, f.read()) for f in data.get("references", [])],
        reference_kind=data["reference_kind"],
        reference_note=data.get("reference_note", ""),
    )
    if result.brief is None:
        return again(result.problems)
    return _added(request, result)


def _notes_parse(request: HttpRequest, person: Person, parse_id: str) -> HttpResponse:
    """The notes a worker reads: polled (htmx) while queued, then its proposal or refusal."""
    if not parse_id.isdigit():
        raise Http404("no such notes parse")
    context = intake.notes_parse_page(person, int(parse_id))
    parse, proposed = context["parse"], context["proposed"]
    context["notes_form"] = NotesForm(initial={"notes": parse.notes})
    if proposed is not None:
        context["upload"] = UploadForm(initial={"brief_yaml": proposed.yaml})
        context["proposal"] = _proposal_form(person, proposed.brief, proposed=proposed)
    if request.htmx:
        return render(request, "web/_notes_parse.html", {"person": person, **context})
    return _intake_page(request, person, mode="parse", **context)


# --- run and progress -----------------------------------------------------------------------


@require_POST
@with_person
def brief_run(request: HttpRequest, person: Person, slug: str) -> HttpResponse:
    found = brief_for(person, slug)
    outcome = intake.queue_run(found, person)
    if outcome.ok:
        messages.success(request, outcome.message)
    else:
        code = f" ({outcome.code})" if outcome.code else ""
        messages.error(request, f"Refused{code}: {outcome.message}")
    if request.htmx and outcome.ok:
        return _progress(request, person, found)
    return redirect("web:brief", slug=found.slug)


def _progress(request: HttpRequest, person: Person, found) -> HttpResponse:
    context = intake.run_progress(found)
    template = "web/_run_progress.html" if request.htmx else "web/intake_run.html"
    return render(request, template, {"person": person, **context})


@require_GET
@with_person
def brief_run_progress(request: HttpRequest, person: Person, slug: str) -> HttpResponse:
    return _progress(request, person, brief_for(person, slug))


# --- data requests --------------------------------------------------------------------------


@require_GET
@with_person
def brief_data_requests(request: HttpRequest, person: Person, slug: str) -> HttpResponse:
    found = brief_for(person, slug)
    page = request.GET.get("page", 1)
    context = {"person": person, **intake.data_requests_page(found, person, page)}
    template = "web/_data_requests.html" if request.htmx else "web/intake_requests.html"
    return render(request, template, context)


@require_POST
@with_person
def brief_data_request(request: HttpRequest, person: Person, slug: str) -> HttpResponse:
    found = brief_for(person, slug)
    form = DataRequestForm(request.POST)
    if form.is_valid():
        outcome = intake.request_data(found, person, **form.cleaned_data)
    else:
        outcome = intake.Queued(
            False, "Choose a SKU, a missing fact and an operator.", InputError.code
        )
    if request.htmx:
        context = {"person": person, "outcome": outcome, **intake.data_requests_page(found, person)}
        return render(
            request, "web/_data_requests.html", context, status=200 if outcome.ok else 400
        )
    if outcome.ok:
        messages.success(request, outcome.message)
    else:
        messages.error(request, f"Refused ({outcome.code}): {outcome.message}")
    return redirect("web:brief-data-requests", slug=found.slug)
