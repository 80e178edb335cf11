"""Editing copy in the browser (live checks, save with a note) and inline comments with
@mentions and resolve: the web screens, the API and the CLI path they share."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from signoff.audit.models import Event
from signoff.comments.models import Comment, Mention
from signoff.packages.editing import check_edit
from signoff.packages.models import Finding, Note, Package, Version


def _amazon(state: str = "in_review") -> Package:
    return (
        Package.objects.filter(channel="amazon_us_pdp", state=state, current_version__isnull=False)
        .select_related("current_version", "brief__workspace")
        .order_by("id")
        .first()
    )


def _edit(package: Package) -> str:
    return reverse("web:package-edit", kwargs={"package_id": package.pk})


def _form(package: Package, **changes: object) -> dict:
    """The editor's form as the page renders it, with ``changes`` typed in."""
    data: dict = {}
    for name, value in {**package.current_version.fields, **changes}.items():
        data[f"field:{name}"] = value
    return data


@pytest.mark.django_db
def test_the_editor_checks_as_you_type_and_saves_nothing(as_person, spring_run):
    package = _amazon()
    maya = as_person("maya")
    versions = Version.objects.count()
    events = Event.objects.count()

    page = maya.get(_edit(package))

    assert page.status_code == 200
    title = package.current_version.fields["title"]
    # One control per spec field, each with its count against the channel's limit.
    assert 'name="field:title"' in page.text
    assert 'name="field:bullet_points"' in page.text
    count = re.search(r'id="count-title">(\d+) / (\d+) characters', page.text)
    assert count
    assert int(count[1]) == len(title)
    limit = int(count[2])
    assert 'hx-post="' + reverse("web:package-edit-check", args=[package.pk]) in page.text

    long_title = "Lumen " * (limit // 6 + 2)
    check_url = reverse("web:package-edit-check", kwargs={"package_id": package.pk})
    live = maya.post(check_url, _form(package, title=long_title), HTTP_HX_REQUEST="true")

    assert live.status_code == 200
    assert "spec.max_chars" in live.text
    # The count beside the field comes out of band, with the new length, marked over.
    oob = re.search(
        r'class="count count-over" id="count-title" hx-swap-oob="true">(\d+)', live.text
    )
    assert oob
    assert int(oob[1]) == len(long_title)
    # The same checks the edit service runs.
    expected = check_edit(package, package.current_version, {"title": long_title})
    assert live.text.count('<span class="sev sev-') == len(expected.findings)
    assert (Version.objects.count(), Event.objects.count()) == (versions, events)

    unknown = maya.post(check_url, {"field:title": "x", "field:nope": "y"})
    assert unknown.status_code == 200  # a field the spec lacks is never read


@pytest.mark.django_db
def test_a_person_of_another_workspace_gets_404_and_stores_nothing(
    client, spring_run, other_workspace
):
    from signoff.web.accounts import ensure_user

    package = _amazon()
    client.force_login(ensure_user(other_workspace.people.get(email="maya@other.example")))
    stored = (Version.objects.count(), Comment.objects.count(), Event.objects.count())
    title = package.current_version.fields["title"]
    comment_url = reverse("web:package-inline-comment", kwargs={"package_id": package.pk})
    check_url = reverse("web:package-edit-check", kwargs={"package_id": package.pk})

    answers = [
        client.get(_edit(package)).status_code,
        client.post(
            _edit(package), {**_form(package, title=title + " X"), "note": "n"}
        ).status_code,
        client.post(check_url, _form(package, title="Short")).status_code,
        client.post(comment_url, {"text": "hello", "field": "title"}).status_code,
    ]

    assert answers == [404, 404, 404, 404]
    assert (Version.objects.count(), Comment.objects.count(), Event.objects.count()) == stored
    package.refresh_from_db()
    assert package.current_version.fields["title"] == title


@pytest.mark.django_db
def test_saving_in_the_editor_is_the_cli_edit_with_its_note(as_person, spring_run):
    package = _amazon()
    before = package.current_version
    maya = as_person("lena")
    new_title = before.fields["title"].replace("Candle", "Soy Candle", 1) + " Gift"

    refused = maya.post(_edit(package), _form(package, title=new_title))
    assert refused.status_code == 400
    assert "Say what you changed" in refused.text
    assert new_title in refused.text  # what was typed is kept
    unchanged = maya.post(_edit(package), {**_form(package), "note": "nothing"})
    assert unchanged.status_code == 400
    assert "Nothing changed" in unchanged.text

    saved = maya.post(_edit(package), {**_form(package, title=new_title), "note": "gift angle"})

    assert saved.status_code == 302
    package.refresh_from_db()
    version = package.current_version
    assert (version.number, version.author, version.fields["title"]) == (
        before.number + 1,
        "lena@lumen.example",
        new_title,
    )
    assert version.origin["note"] == "gift angle"
    assert version.origin["changed"] == ["title"]
    event = Event.objects.filter(action="package.edited", subject_id=str(package.pk)).last()
    assert event.actor == "lena@lumen.example"
    assert event.note == "gift angle"
    assert event.content_hash == version.content_hash
    assert Note.objects.filter(package=package, kind="edit", text="gift angle").exists()
    stored = sorted(Finding.objects.filter(version=version).values_list("rule_id", flat=True))
    expected = check_edit(package, before, {"title": new_title}).findings
    assert stored == sorted(f.rule_id for f in expected)
    # Removing a bullet: a blank item is dropped.
    bullets = list(version.fields["bullet_points"])
    form = {**_form(package), "note": "one bullet fewer"}
    form["field:bullet_points"] = [*bullets[:-1], ""]
    assert maya.post(_edit(package), form).status_code == 302
    package.refresh_from_db()
    assert package.current_version.fields["bullet_points"] == bullets[:-1]


@pytest.mark.django_db
def test_inline_comments_anchor_mention_and_resolve(as_person, spring_run):
    package = _amazon()
    title = package.current_version.fields["title"]
    word = title.split()[1]
    maya = as_person("maya")
    url = reverse("web:package-inline-comment", kwargs={"package_id": package.pk})

    wrong = maya.post(url, {"text": "hm", "field": "title", "quote": "not in the title at all"})
    nobody = maya.post(url, {"text": "@zed look", "field": "title", "quote": word})
    assert wrong.status_code == nobody.status_code == 302
    assert not Comment.objects.exists()
    assert not Note.objects.filter(kind="comment").exists()

    response = maya.post(
        url,
        {"text": "@omar is this a claim?", "field": "title", "quote": word},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    comment = Comment.objects.get()
    assert (comment.field, comment.quote) == ("title", word)
    assert title[comment.start : comment.end] == word
    assert [m.person.email for m in comment.mentions.all()] == ["omar@lumen.example"]
    assert comment.note.kind == "comment"
    assert comment.note.sku == package.sku
    event = Event.objects.filter(action="package.commented").last()
    assert event.data["mentions"] == ["omar@lumen.example"]
    assert event.data["anchor"]["quote"] == word
    assert "is this a claim?" in response.text
    assert f"<q>{word}</q>" in response.text

    # Offsets must say what the quote says.
    bad = maya.post(url, {"text": "x", "field": "title", "quote": word, "start": "0", "end": "1"})
    assert bad.status_code == 302
    assert Comment.objects.count() == 1

    # The mentioned person sees it on their dashboard until it is resolved.
    omar = as_person("omar")
    dashboard = omar.get(reverse("web:dashboard"))
    assert "is this a claim?" in dashboard.text
    assert reverse("web:package", args=[package.pk]) in dashboard.text
    assert "is this a claim?" in omar.get(reverse("web:package", args=[package.pk])).text

    resolve = reverse("web:comment-resolve", kwargs={"comment_id": comment.pk})
    done = omar.post(resolve, {"note": "approved claim wording"}, HTTP_HX_REQUEST="true")
    assert done.status_code == 200
    assert "1 resolved" in done.text
    comment.refresh_from_db()
    assert comment.resolved_by == "omar@lumen.example"
    assert Event.objects.filter(action="package.comment_resolved").count() == 1
    assert "is this a claim?" not in omar.get(reverse("web:dashboard")).text
    again = omar.post(resolve, {}, HTTP_HX_REQUEST="true")
    assert again.status_code == 409
    assert Event.objects.filter(action="package.comment_resolved").count() == 1


@pytest.mark.django_db
def test_edit_and_comment_api(api, spring_run, other_workspace):
    package = _amazon()
    base = f"/api/packages/{package.pk}"
    title = package.current_version.fields["title"]

    check = api("maya").post(f"{base}/edit/check", {"changes": {"title": "Short"}})
    assert check.status_code == 200, check.json()
    body = check.json()
    assert body["changed"] is True
    assert {"path": "title", "length": 5}.items() <= next(
        c for c in body["counts"] if c["path"] == "title"
    ).items()
    same = api("maya").post(f"{base}/edit/check", {"changes": {}}).json()
    assert same["changed"] is False
    assert api("maya").post(f"{base}/edit/check", {"changes": {"nope": "x"}}).status_code == 422
    assert Version.objects.filter(package=package).count() == 1

    added = api("maya").post(
        f"{base}/inline-comments",
        {"text": "@lena@lumen.example tone?", "field": "title", "start": 0, "end": 5},
    )
    assert added.status_code == 201, added.json()
    row = added.json()
    assert (row["quote"], row["mentions"], row["resolved"]) == (
        title[:5],
        ["lena@lumen.example"],
        False,
    )
    assert api("lena").get("/api/mentions").json()[0]["comment"]["id"] == row["id"]
    assert api("maya").get("/api/mentions").json() == []
    plain = api("ari").post(f"{base}/comments", {"text": "ping @maya"})
    assert plain.status_code == 201
    assert Mention.objects.filter(person__email="maya@lumen.example").count() == 1

    listed = api("omar").get(f"{base}/inline-comments").json()
    assert [c["text"] for c in listed] == ["@lena@lumen.example tone?", "ping @maya"]
    assert listed[1]["mentions"] == ["maya@lumen.example"]
    resolved = api("lena").post(f"/api/comments/{row['id']}/resolve", {"note": "fine"})
    assert resolved.status_code == 200
    assert resolved.json()["resolved_by"] == "lena@lumen.example"
    assert api("lena").post(f"/api/comments/{row['id']}/resolve", {}).status_code == 409
    assert api("lena").get("/api/mentions").json() == []

    stranger = api("maya", "other-brand")
    assert stranger.get(f"{base}/inline-comments").status_code == 404
    assert stranger.post(f"/api/comments/{row['id']}/resolve", {}).status_code == 404
    assert stranger.post(f"{base}/edit/check", {"changes": {}}).status_code == 404


# --- issue 17: lost updates, counts that keep their place, line breaks, mentions -------------


@pytest.mark.django_db
def test_saving_over_a_newer_version_is_refused_web_and_api(client, person, api, spring_run):
    """Two people open the editor on the same version; the second save is refused (409), with
    the newer version named and a link to reload, and nothing is stored."""
    from django.test import Client

    from signoff.web.accounts import ensure_user

    package = _amazon()
    opened = package.current_version
    lena, maya = Client(), Client()
    lena.force_login(ensure_user(person("lena")))
    maya.force_login(ensure_user(person("maya")))
    page = maya.get(_edit(package))
    assert f'name="base_version" value="{opened.number}"' in page.text
    base = {"base_version": str(opened.number)}
    gift = opened.fields["title"] + " Gift"
    assert (
        lena.post(
            _edit(package), {**_form(package, title=gift), **base, "note": "gift"}
        ).status_code
        == 302
    )
    bullets = list(opened.fields["bullet_points"])
    bullets[0] += " Extra."
    versions = Version.objects.count()

    stale = maya.post(
        _edit(package), {**_form(package, bullet_points=bullets), **base, "note": "bullet"}
    )

    assert stale.status_code == 409
    assert f"is at version {opened.number + 1} (by lena@lumen.example)" in stale.text
    assert f"since you opened version {opened.number}" in stale.text
    assert 'id="edit-reload"' in stale.text
    # Saving again from the refused page is refused again: only a reload edits the new one.
    assert f'name="base_version" value="{opened.number}"' in stale.text
    assert Version.objects.count() == versions
    package.refresh_from_db()
    assert package.current_version.fields["title"] == gift
    again = maya.get(_edit(package))
    assert f'name="base_version" value="{opened.number + 1}"' in again.text
    fresh = {
        **_form(package, bullet_points=bullets),
        "note": "bullet",
        "base_version": str(opened.number + 1),
    }
    assert maya.post(_edit(package), fresh).status_code == 302

    # The API: an optional base_version, the same refusal.
    url = f"/api/packages/{package.pk}/edit"
    refused = api("lena").post(
        url, {"changes": {"title": "Lumen Soy Candle"}, "note": "x", "base_version": opened.number}
    )
    assert refused.status_code == 409, refused.json()
    assert refused.json()["error"]["code"] == "invalid_state"
    assert f"is at version {opened.number + 2}" in refused.json()["error"]["message"]
    assert Version.objects.count() == versions + 1
    body = {"changes": {"title": gift + " Set"}, "note": "x", "base_version": opened.number + 2}
    assert api("lena").post(url, body).status_code == 200


@pytest.mark.django_db
def test_counts_stay_beside_their_field_when_a_bullet_is_cleared(as_person, spring_run):
    package = _amazon()
    bullets = list(package.current_version.fields["bullet_points"])
    assert len({len(b) for b in bullets[1:3]}) == 2  # the 2nd and 3rd differ in length
    form = _form(package)
    form["field:bullet_points"] = [bullets[0], "", *bullets[2:]]  # clearing bullet 2 to retype
    check_url = reverse("web:package-edit-check", kwargs={"package_id": package.pk})

    live = as_person("maya").post(check_url, form, HTTP_HX_REQUEST="true")

    counts = dict(re.findall(r'id="count-(bullet_points\d+)" hx-swap-oob="true">(\d+)', live.text))
    assert counts == {
        f"bullet_points{i}": str(len(b)) for i, b in enumerate(form["field:bullet_points"])
    }


@pytest.mark.django_db
def test_line_breaks_from_a_textarea_count_and_are_stored_as_one_character(
    as_person, api, spring_run
):
    package = _amazon()
    name = "product_description"
    text = package.current_version.fields[name]
    half = len(text) // 2
    crlf, lf = (text[:half] + sep + "Second part." + text[half:] for sep in ("\r\n", "\n"))
    check_url = reverse("web:package-edit-check", kwargs={"package_id": package.pk})
    lena = as_person("lena")

    live = lena.post(check_url, _form(package, **{name: crlf}), HTTP_HX_REQUEST="true")
    count = re.search(rf'id="count-{name}" hx-swap-oob="true">(\d+)', live.text)
    assert int(count[1]) == len(lf)
    saved = lena.post(_edit(package), {**_form(package, **{name: crlf}), "note": "two parts"})
    assert saved.status_code == 302
    package.refresh_from_db()
    assert package.current_version.fields[name] == lf
    assert package.current_version.origin["changed"] == [name]

    # The API: CR and CRLF are one line break too, and a lone CR is one.
    url = f"/api/packages/{package.pk}/edit"
    bullets = package.current_version.fields["bullet_points"]
    body = {"changes": {"bullet_points[0]": "One\r\ntwo\rthree"}, "note": "x"}
    check = api("lena").post(f"{url}/check", body).json()
    assert next(c for c in check["counts"] if c["path"] == "bullet_points[0]")["length"] == 13
    assert api("lena").post(url, body).status_code == 200
    package.refresh_from_db()
    stored = package.current_version.fields["bullet_points"]
    assert stored == ["One\ntwo\nthree", *bullets[1:]]


@pytest.mark.django_db
def test_a_mention_of_a_person_is_saved_and_an_unknown_one_is_refused(
    as_person, spring_run, other_workspace
):
    """Docs (reviewing.md): @omar mentions Omar; an @word naming nobody is refused with the
    reason, and nothing is stored (a mention that silently reaches nobody would be worse)."""
    package = _amazon()
    maya = as_person("maya")
    page_url = reverse("web:package-comment", kwargs={"package_id": package.pk})
    inline_url = reverse("web:package-inline-comment", kwargs={"package_id": package.pk})

    for url in (page_url, inline_url):
        saved = maya.post(url, {"text": "Please check the claim, @omar."}, follow=True)
        assert saved.status_code == 200
        assert "Comment saved" in saved.text
    comments = Comment.objects.order_by("id")
    assert [[m.person.email for m in c.mentions.all()] for c in comments] == [
        ["omar@lumen.example"],
        ["omar@lumen.example"],
    ]
    assert Event.objects.filter(action="package.commented").last().data["mentions"] == [
        "omar@lumen.example"
    ]

    for url in (page_url, inline_url):
        refused = maya.post(url, {"text": "@zed look at this"}, follow=True)
        assert "@zed names nobody in this workspace" in refused.text
    assert Comment.objects.count() == 2
    assert not Note.objects.filter(text__contains="@zed").exists()
