"""Intake for people: the proposed brief reviewed in a form with its images, and the G1 page's
field-level changes and CSV conflicts (instead of a YAML text diff)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from signoff.audit.models import Event
from signoff.briefs.models import Brief
from signoff.briefs.services import add_brief
from signoff.briefs.version_changes import field_changes
from signoff.visuals.models import Reference

NEW = reverse("web:brief-new")


def png(name: str, colour: tuple[int, int, int] = (200, 120, 90)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def csv_upload(example_dir: Path) -> SimpleUploadedFile:
    data = (example_dir / "products.csv").read_bytes()
    return SimpleUploadedFile("products.csv", data, content_type="text/csv")


def _uploads_left(home: Path) -> list[Path]:
    folder = home / "uploads"
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.mark.django_db
def test_notes_become_a_form_that_adds_the_brief_with_its_images(
    as_person, example_dir, settings, tmp_path
):
    settings.SIGNOFF_HOME = tmp_path / "home"
    maya = as_person("maya")
    notes = (example_dir / "kickoff-notes.txt").read_text()

    proposed = maya.post(NEW, {"mode": "notes", "notes": notes})

    assert proposed.status_code == 200
    form = re.search(r'<form[^>]*id="proposal-form".*?</form>', proposed.text, re.S).group(0)
    for name in ("name", "slug", "audience", "hypothesis", "key_messages", "products"):
        assert f'name="{name}"' in form
    assert "first-home buyers" in form  # the parser's audience, ready to check
    assert re.search(r'value="amazon_us_pdp"[^>]*checked', form)
    assert 'type="file" name="packshots"' in form
    assert "multiple" in form
    assert not Brief.objects.exists()

    base = {
        "mode": "proposal",
        "name": "Spring candles",
        "slug": "spring-form",
        "content_type": "ecommerce",
        "channels": ["amazon_us_pdp", "walmart_us"],
        "markets": "en-US",
        "variants": "1",
        "deadline": "2027-02-15",
        "audience": "First-home buyers",
        "hypothesis": "Brand-first titles sell better",
        "key_messages": "Hand-poured soy wax\nPhthalate-free fragrance",
        "reference_kind": "brand_example",
        "reference_note": "the calm look",
    }
    # A packshot whose name starts with no SKU: nothing is added, no file is left behind.
    refused = maya.post(
        NEW,
        {**base, "products_csv": csv_upload(example_dir), "packshots": [png("candle.png")]},
    )
    assert refused.status_code == 400
    assert "candle.png" in refused.text
    assert "LUM-SPR-LAV-08" in refused.text
    assert str(settings.SIGNOFF_HOME) not in refused.text
    assert not Brief.objects.exists()
    assert not Reference.objects.exists()
    assert _uploads_left(settings.SIGNOFF_HOME) == []

    added = maya.post(
        NEW,
        {
            **base,
            "products_csv": csv_upload(example_dir),
            "packshots": [png("LUM-SPR-LAV-08-front.png"), png("lum-spr-fig-08.png", (9, 9, 9))],
            "references": [png("mood.png", (10, 200, 10))],
        },
    )

    assert added.status_code == 302, added.content[:2000]
    brief = Brief.objects.get(slug="spring-form")
    version = brief.latest_version()
    assert version.data["hypothesis"] == "Brand-first titles sell better"
    assert version.data["key_messages"] == ["Hand-poured soy wax", "Phthalate-free fragrance"]
    assert version.data["deadline"] == "2027-02-15"
    refs = {(r.kind, r.sku, r.filename) for r in brief.references.all()}
    assert refs == {
        ("packshot", "LUM-SPR-LAV-08", "LUM-SPR-LAV-08-front.png"),
        ("packshot", "LUM-SPR-FIG-08", "lum-spr-fig-08.png"),
        ("brand_example", "", "mood.png"),
    }
    assert Event.objects.filter(action="reference.added").count() == 3


@pytest.mark.django_db
def test_products_typed_in_the_form_need_no_csv(as_person, settings, tmp_path, lumen_workspace):
    settings.SIGNOFF_HOME = tmp_path / "home"
    maya = as_person("maya")
    data = {
        "mode": "proposal",
        "name": "Two candles",
        "slug": "two-candles",
        "content_type": "ecommerce",
        "channels": ["amazon_us_pdp"],
        "markets": "en-US, en-GB",
        "variants": "2",
        "products": "LUM-A-01, Amber Candle, 00850012345018\nLUM-B-02, Birch Candle",
        "reference_kind": "brand_example",
    }
    missing = maya.post(NEW, {**data, "products": ""})
    assert missing.status_code == 400
    assert "PIM CSV" in missing.text
    too_many = maya.post(NEW, {**data, "products": "A, b, c, d"})
    assert too_many.status_code == 400
    assert "line 1" in too_many.text

    assert maya.post(NEW, data).status_code == 302
    version = Brief.objects.get(slug="two-candles").latest_version()
    assert version.data["markets"] == ["en-US", "en-GB"]
    assert version.data["variants"] == 2
    products = {p.sku: (p.name, p.gtin) for p in version.products.all()}
    assert products == {
        "LUM-A-01": ("Amber Candle", "00850012345018"),
        "LUM-B-02": ("Birch Candle", ""),
    }


def test_field_changes_say_what_changed_per_field():
    before = {"brief": "x", "name": "A", "audience": "Buyers", "key_messages": ["one", "two"]}
    after = {"brief": "x", "name": "A", "audience": "Renters", "key_messages": ["two", "three"]}

    rows = field_changes(before, after)

    assert [r["field"] for r in rows] == ["audience", "key_messages"]
    assert (rows[0]["before"], rows[0]["after"]) == ("Buyers", "Renters")
    assert (rows[1]["added"], rows[1]["removed"]) == (["three"], ["one"])


@pytest.mark.django_db
def test_the_g1_page_shows_field_changes_and_each_csv_conflict(as_person, api, cli, example_dir):
    brief_file = example_dir / "briefs" / "spring-candles.yaml"
    text = brief_file.read_text()
    # The brief says one GTIN, the CSV another: a conflict the CSV wins.
    brief_file.write_text(text.replace('"00850012345018"', '"00850012345994"', 1))
    report = add_brief(brief_file, products_csv=example_dir / "products.csv")
    assert report.conflicts
    maya = as_person("maya")
    page = maya.get(reverse("web:brief", kwargs={"slug": report.brief.slug}))

    conflicts = re.search(r'id="conflicts".*?</section>', page.text, re.S).group(0)
    assert "LUM-SPR-LAV-08" in conflicts
    assert "00850012345994" in conflicts
    assert f"· {len(report.conflicts)}" in conflicts
    assert "Version 1: the first" in page.text

    changed = text.replace("audience:", "audience: Renters who like candles. #", 1)
    brief_file.write_text(changed)
    second = add_brief(brief_file, products_csv=example_dir / "products.csv")
    assert second.version.number == 2
    page = maya.get(reverse("web:brief", kwargs={"slug": report.brief.slug}))

    changes = re.search(r'id="brief-changes".*?</section>', page.text, re.S).group(0)
    assert "Changes from version 1" in changes
    assert 'data-field="audience"' in changes
    assert "Renters who like candles." in changes
    assert "None: the CSV and the brief agree." in page.text

    # The same from the API and the CLI.
    body = api("omar").get(f"/api/briefs/{report.brief.slug}/changes").json()
    assert body["version"] == 2
    assert body["changes"]["previous"] == 1
    assert [f["field"] for f in body["changes"]["fields"]] == ["audience"]
    assert body["conflicts"] == {"rows": [], "total": 0, "recorded": True}
    printed = cli("brief", "changes", report.brief.slug)
    assert printed.exit_code == 0, printed.output
    assert "Audience:" in printed.output
    assert "conflicts (the CSV wins): 0" in printed.output


@pytest.mark.django_db
def test_a_refused_review_form_keeps_the_proposal_and_an_id_in_use_is_refused(
    as_person, example_dir, settings, tmp_path
):
    """Issue 17: a form error shows the review page again with the open questions, what was
    flagged and what was typed; and "Add brief" with another person's brief id is refused
    (it used to make a new version of their brief), naming the id."""
    import html

    settings.SIGNOFF_HOME = tmp_path / "home"
    maya = as_person("maya")
    notes = (example_dir / "kickoff-notes.txt").read_text()
    proposed = maya.post(NEW, {"mode": "notes", "notes": notes})
    other = html.unescape(re.search(r'name="other" value="([^"]*)"', proposed.text).group(1))
    questions = re.search(r'id="open-questions".*?</section>', proposed.text, re.S).group(0)
    assert "<li>" in questions
    base = {
        "mode": "proposal",
        "other": other,
        "name": "Spring candles",
        "slug": "spring-form",
        "content_type": "ecommerce",
        "channels": ["amazon_us_pdp"],
        "markets": "en-US",
        "variants": "1",
        "audience": "Typed by Maya",
        "reference_kind": "brand_example",
    }

    refused = maya.post(NEW, base)  # no products: a form error

    assert refused.status_code == 400
    assert re.search(r'id="open-questions".*?</section>', refused.text, re.S).group(0) == questions
    assert "Flagged in the notes" in refused.text
    assert "Typed by Maya" in refused.text
    assert "Edit as YAML instead" in refused.text
    assert html.unescape(re.search(r'name="other" value="([^"]*)"', refused.text)[1]) == other
    assert not Brief.objects.exists()

    added = maya.post(NEW, {**base, "products_csv": csv_upload(example_dir)})
    assert added.status_code == 302
    kept = _uploads_left(tmp_path / "home")
    lena = as_person("lena")
    taken = lena.post(
        NEW, {**base, "name": "Another team's brief", "products_csv": csv_upload(example_dir)}
    )

    assert taken.status_code == 400
    assert "a brief with the id &#x27;spring-form&#x27; exists already" in taken.text
    assert "Open questions" in taken.text  # the review page again, not a blank one
    brief = Brief.objects.get(slug="spring-form")
    assert (brief.name, brief.owner, brief.versions.count()) == (
        "Spring candles",
        "maya@lumen.example",
        1,
    )
    assert brief.latest_version().data["audience"] == "Typed by Maya"
    # The same through the upload form; its owner may still add a new version of her brief.
    text = yaml.safe_dump({**brief.latest_version().data, "name": "Taken over"})
    upload = {"mode": "upload", "brief_yaml": text, "products_csv": csv_upload(example_dir)}
    assert lena.post(NEW, upload).status_code == 400
    assert Brief.objects.get(slug="spring-form").versions.count() == 1
    assert _uploads_left(tmp_path / "home") == kept  # a refused upload leaves nothing
    upload["products_csv"] = csv_upload(example_dir)
    again = as_person("maya").post(NEW, upload)  # one test client: sign Maya in again
    assert again.status_code == 302, re.findall(r'<tr class="problem">.*?</tr>', again.text)
    assert Brief.objects.get(slug="spring-form").versions.count() == 2
