"""Adding references to a brief from the web app: packshots, brand examples, winners, negatives.

The same service as `signoff refs add` and the API: every file is read as an image and stored
once by its SHA-256, or, when one is not a usable image, none is and the page says which.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from signoff.briefs.authority import ensure_may_run
from signoff.visuals.models import Reference
from signoff.visuals.references import ReferenceFile, add_references
from signoff.web.scope import brief_for
from signoff.web.views import with_person
from signoff.web.views_images import _decide
from signoff.workspaces.models import Person

MAX_FILES = 20


class ReferenceForm(forms.Form):
    kind = forms.ChoiceField(choices=Reference.Kind.choices, initial=Reference.Kind.PACKSHOT)
    sku = forms.CharField(required=False, max_length=100, label="SKU (for a packshot)")
    note = forms.CharField(required=False, max_length=2000, widget=forms.Textarea({"rows": 2}))


@require_POST
@with_person
def add_reference_files(request: HttpRequest, person: Person, slug: str) -> HttpResponse:
    brief = brief_for(person, slug)
    form = ReferenceForm(request.POST)
    uploads = request.FILES.getlist("files")
    if not form.is_valid() or not uploads or len(uploads) > MAX_FILES:
        messages.error(request, f"Nothing stored: choose 1 to {MAX_FILES} files and a kind.")
        return redirect("web:images", slug=brief.slug)
    data = form.cleaned_data

    def add() -> list[Reference]:
        ensure_may_run(person, brief, "add references to")
        files = [
            ReferenceFile(
                upload.read(), upload.name, data["kind"], data["sku"].strip(), data["note"]
            )
            for upload in uploads
        ]
        return add_references(brief=brief, files=files, actor=person.email)

    _decide(request, None, add, f"{len(uploads)} reference file(s) added as {data['kind']}.")
    return redirect("web:images", slug=brief.slug)
