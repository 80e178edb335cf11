"""The compare screen: variants and versions side by side, ratings kept as comments in memory."""

from __future__ import annotations

import pytest
import yaml
from django.urls import reverse

from signoff.audit.models import Event
from signoff.memory.search import search_notes
from signoff.memory.services import as_prompt_note, notes_for_drafts
from signoff.packages.authoring import edit_package
from signoff.packages.models import Note, Package
from signoff.web.accounts import ensure_user
from signoff.workspaces.models import Person, Workspace

SLUG = "spring-variants-2027"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def variants_run(lumen_workspace, example_dir, person):
    """The spring brief with two variants per cell, on two SKUs and two channels, drafted."""
    from signoff.briefs.approval import approve_brief
    from signoff.briefs.services import add_brief
    from signoff.packages.services import run_brief

    data = yaml.safe_load((example_dir / "briefs" / "spring-candles.yaml").read_text())
    data.update(
        brief=SLUG,
        name="Spring variants",
        variants=2,
        channels=["amazon_us_pdp", "meta_feed_ad"],
        products=data["products"][:2],
    )
    path = example_dir / "briefs" / "spring-variants.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    brief = add_brief(path).brief
    approve_brief(brief=brief, person=person("maya"))
    brief.refresh_from_db()
    run_brief(brief)
    return brief


@pytest.fixture
def maya_client(client, person, variants_run):
    client.force_login(ensure_user(person("maya"), PASSWORD))
    return client


def cell(variant: str) -> Package:
    return Package.objects.get(
        brief__slug=SLUG, sku="LUM-SPR-LAV-08", channel="amazon_us_pdp", variant=variant
    )


def compare_url(package: Package, query: str = "") -> str:
    url = reverse("web:package-compare", kwargs={"package_id": package.pk})
    return f"{url}?{query}" if query else url


def rate_url(package: Package) -> str:
    return reverse("web:package-compare-rate", kwargs={"package_id": package.pk})


@pytest.mark.django_db
def test_compare_shows_both_variants_side_by_side(maya_client):
    a, b = cell("A"), cell("B")
    page = maya_client.get(compare_url(a))
    assert page.status_code == 200
    assert "Variant A · v1" in page.text
    assert "Variant B · v1" in page.text
    assert f'value="{a.pk}:1"' in page.text
    assert f'value="{b.pk}:1"' in page.text
    # Each row is named in plain words, with the field's path on hover.
    for path, label in (("title", "Title"), ("bullet_points[0]", "Bullet 1")):
        assert f'title="{path}">{label}</th>' in page.text
    assert "Findings" in page.text
    assert 'name="csrfmiddlewaretoken"' in page.text
    assert "<script>" not in page.text.split("</head>")[1]  # no inline script in the body
    # The package page links here.
    assert compare_url(a) in maya_client.get(reverse("web:package", args=[a.pk])).text


@pytest.mark.django_db
def test_compare_an_earlier_version_with_the_current_one(maya_client, person):
    a = cell("A")
    title = a.current_version.fields["title"]
    edit_package(
        package_id=a.pk, person=person("ari"), changes={"title": title + " Gift"}, note="gift"
    )
    page = maya_client.get(compare_url(a, "version=1"))
    assert page.status_code == 200
    assert "Variant A · v2" in page.text
    assert "Variant A · v1" in page.text
    assert "earlier version" in page.text
    assert "Variant B" not in page.text.split("<table")[1].split("</thead>")[0]


@pytest.mark.django_db
def test_a_rating_is_saved_as_a_comment_the_drafter_and_memory_search_see(maya_client):
    a, b = cell("A"), cell("B")
    response = maya_client.post(
        rate_url(a),
        {
            "candidate": f"{b.pk}:1",
            "rating": "4",
            "tags": ["great headline", "on brand"],
            "text": "Lead with the scent",
            "query": "",
        },
    )
    assert response.status_code == 302
    note = Note.objects.get(package=b, kind=Note.Kind.COMMENT)
    assert note.text == "rating 4/5; tags: on brand, great headline; Lead with the scent"
    assert note.person == "maya@lumen.example"
    assert note.version_id == b.current_version_id
    assert (note.sku, note.channel) == (b.sku, b.channel)

    event = Event.objects.get(action="package.commented", subject_id=str(b.pk))
    assert event.actor == "maya@lumen.example"
    assert event.data["rating"] == 4
    assert event.data["tags"] == ["on brand", "great headline"]
    assert event.data["note"] == note.pk
    assert event.content_hash == b.current_version.content_hash

    # Memory: `signoff memory search` finds it, and the next draft of the cell reads it.
    found = search_notes(workspace_id=b.brief.workspace_id, query="great headline")
    assert [n.pk for n in found] == [note.pk]
    drafts = notes_for_drafts(b.brief.workspace_id, [(b.sku, b.channel)])
    assert note in drafts[(b.sku, b.channel)]
    assert "rating 4/5" in as_prompt_note(note)

    # The page shows it after the redirect.
    page = maya_client.get(response["Location"])
    assert "Saved to memory: rating 4/5" in page.text
    assert "Lead with the scent" in page.text


@pytest.mark.django_db
def test_memory_search_command_finds_the_rating(maya_client, tmp_path):
    from click.testing import CliRunner

    from signoff.cli import main

    a = cell("A")
    maya_client.post(rate_url(a), {"candidate": f"{a.pk}:1", "rating": "2", "tags": ["too long"]})
    result = CliRunner().invoke(
        main, ["memory", "search", "too long", "--workspace", "lumen-home", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert "rating 2/5; tags: too long" in result.output


@pytest.mark.django_db
def test_a_rating_over_htmx_returns_the_status_partial(maya_client):
    a = cell("A")
    response = maya_client.post(
        rate_url(a), {"candidate": f"{a.pk}:1", "rating": "5"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "Saved to memory: rating 5/5" in response.text
    assert "<html" not in response.text


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [
        {"rating": "7"},
        {"rating": "0"},
        {"rating": "four"},
        {},
        {"rating": "3", "tags": ["lovely"]},
        {"rating": "3", "candidate": "nonsense"},
    ],
)
def test_an_invalid_rating_is_refused_with_400_and_stores_nothing(maya_client, data):
    a = cell("A")
    form = {"candidate": f"{a.pk}:1", **data}
    response = maya_client.post(rate_url(a), form)
    assert response.status_code == 400
    htmx = maya_client.post(rate_url(a), form, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 400
    assert "Not saved" in htmx.text
    assert not Note.objects.filter(kind=Note.Kind.COMMENT).exists()
    assert not Event.objects.filter(action="package.commented").exists()


@pytest.mark.django_db
def test_rate_candidate_refuses_a_rating_outside_one_to_five(variants_run, person):
    from signoff.core.errors import InputError
    from signoff.web.compare import rate_candidate

    with pytest.raises(InputError):
        rate_candidate(
            person=person("maya"), package=cell("A"), version_number=1, rating=6, tags=[]
        )
    assert not Note.objects.exists()


@pytest.mark.django_db
def test_another_workspace_gets_404_for_the_page_and_the_rating(client, variants_run):
    other = Workspace.objects.create(slug="other-brand", name="Other Brand")
    zoe = Person.objects.create(
        workspace=other, email="zoe@other.example", name="Zoe", roles=["content_lead"]
    )
    client.force_login(ensure_user(zoe, PASSWORD))
    a = cell("A")
    assert client.get(compare_url(a)).status_code == 404
    response = client.post(rate_url(a), {"candidate": f"{a.pk}:1", "rating": "5"})
    assert response.status_code == 404
    assert not Note.objects.exists()


@pytest.mark.django_db
def test_only_variants_of_the_same_cell_can_be_compared_or_rated(maya_client):
    a = cell("A")
    elsewhere = Package.objects.get(
        brief__slug=SLUG, sku="LUM-SPR-NER-08", channel="amazon_us_pdp", variant="A"
    )
    assert maya_client.get(compare_url(a, f"with={elsewhere.pk}")).status_code == 404
    rated = maya_client.post(rate_url(a), {"candidate": f"{elsewhere.pk}:1", "rating": "3"})
    assert rated.status_code == 404
    assert maya_client.get(compare_url(a, "version=9")).status_code == 404
    assert maya_client.get(compare_url(a, "with=abc")).status_code == 400
    too_many = maya_client.get(compare_url(a, f"version=2&version=3&version=4&with={cell('B').pk}"))
    assert too_many.status_code == 400
    assert "at most 4" in too_many.text
    assert not Note.objects.exists()


@pytest.mark.django_db
def test_compare_needs_sign_in(client, variants_run):
    a = cell("A")
    assert client.get(compare_url(a)).status_code == 302
    assert client.post(rate_url(a), {"candidate": f"{a.pk}:1", "rating": "5"}).status_code == 302
    assert not Note.objects.exists()
