"""Stakeholder review links: view and comment only, until expiry or revocation, all audited."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from signoff.audit.models import Event
from signoff.audit.services import verify
from signoff.core.errors import InputError, NotFound
from signoff.memory.search import search_notes
from signoff.packages.models import Note, Package, RefusalWindow
from signoff.sharing.models import ReviewComment, ReviewLink
from signoff.sharing.services import (
    ACTOR,
    channel_package_ids,
    create_review_link,
    link_scope,
    revoke_review_link,
)
from signoff.web.accounts import ensure_user
from signoff.workflow import AuthorityError
from signoff.workspaces.models import Person, Workspace

PASSWORD = "correct horse battery staple"


@pytest.fixture
def shared(spring_run, person):
    """A link to the two Amazon packages of Lavender and Neroli, by Maya."""
    packages = list(
        Package.objects.filter(
            sku__in=["LUM-SPR-LAV-08", "LUM-SPR-NER-08"], channel="amazon_us_pdp"
        ).order_by("id")
    )
    link, token = create_review_link(
        person("maya"), [p.pk for p in packages], timedelta(days=7), "Does this read well?"
    )
    return link, token, packages


def review_url(token: str) -> str:
    return reverse("sharing:review", kwargs={"token": token})


def package_url(token: str, package: Package) -> str:
    return reverse("sharing:package", kwargs={"token": token, "package_id": package.pk})


def comment_url(token: str, package: Package) -> str:
    return reverse("sharing:comment", kwargs={"token": token, "package_id": package.pk})


@pytest.mark.django_db
def test_the_token_is_random_256_bits_and_only_its_hash_is_stored(shared):
    link, token, packages = shared
    assert len(token) >= 43  # 32 bytes, URL-safe base64
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(ReviewLink.objects.filter(pk=link.pk).values().get())
    assert set(link.packages.values_list("id", flat=True)) == {p.pk for p in packages}
    assert link.expires_at - timezone.now() > timedelta(days=6, hours=23)
    event = Event.objects.get(action="link.created")
    assert event.actor == "maya@lumen.example"
    assert event.data["link"] == link.pk
    assert token not in str(event.data)


@pytest.mark.django_db
def test_only_a_content_lead_creates_or_revokes_links(spring_run, person, shared):
    link, _, packages = shared
    for name in ("ari", "omar", "lena", "sofia"):
        with pytest.raises(AuthorityError) as refused:
            create_review_link(person(name), [packages[0].pk], timedelta(days=1), "")
        assert refused.value.code.value == "wrong_role"
        with pytest.raises(AuthorityError):
            revoke_review_link(person(name), link.pk)
    assert ReviewLink.objects.count() == 1


@pytest.mark.django_db
def test_a_link_to_a_package_of_another_workspace_or_a_bad_expiry_is_refused(spring_run, person):
    other = Workspace.objects.create(slug="other-brand", name="Other Brand")
    zoe = Person.objects.create(
        workspace=other, email="zoe@other.example", name="Zoe", roles=["content_lead"]
    )
    package = Package.objects.first()
    with pytest.raises(NotFound):
        create_review_link(zoe, [package.pk], timedelta(days=1), "")
    with pytest.raises(InputError):
        create_review_link(person("maya"), [package.pk], timedelta(days=90), "")
    with pytest.raises(InputError):
        create_review_link(person("maya"), [], timedelta(days=1), "")
    assert not ReviewLink.objects.exists()


@pytest.mark.django_db
def test_the_guest_views_the_current_versions_and_each_view_is_audited(client, shared):
    link, token, packages = shared
    index = client.get(review_url(token))
    assert index.status_code == 200
    assert "Does this read well?" in index.text
    for package in packages:
        assert package_url(token, package) in index.text
    page = client.get(package_url(token, packages[0]))
    assert page.status_code == 200
    assert packages[0].current_version.fields["title"] in page.text
    assert page["Referrer-Policy"] == "same-origin"  # the token never leaves for another site
    assert "no-store" in page["Cache-Control"]
    assert "noindex" in page["X-Robots-Tag"]
    assert 'name="csrfmiddlewaretoken"' in page.text
    # No gate panel, no decision form: viewing and commenting only.
    assert "gate-panel" not in page.text
    assert 'value="approve"' not in page.text
    # Audited, one event per link and hour: the first view at once, the next one counted.
    (view,) = Event.objects.filter(action="link.viewed")
    assert (view.subject_type, view.subject_id, view.data["package"]) == (
        "review_link",
        str(link.pk),
        None,
    )
    assert (view.actor, view.actor_kind, view.data["link"]) == (ACTOR, "system", link.pk)
    window = RefusalWindow.objects.get(subject_type="review_link", subject_id=str(link.pk))
    assert (window.event_seq, window.repeats) == (view.seq, 1)


@pytest.mark.django_db
def test_a_guest_comment_goes_to_memory_and_the_audit_log(client, shared):
    link, token, packages = shared
    response = client.post(
        comment_url(token, packages[1]), {"name": "Jo Retailer", "text": "Mention the gift box"}
    )
    assert response.status_code == 302
    note = Note.objects.get(kind=Note.Kind.COMMENT)
    assert note.person == "guest:Jo Retailer"
    assert note.package_id == packages[1].pk
    assert note.version_id == packages[1].current_version_id
    assert ReviewComment.objects.get(note=note).link == link
    event = Event.objects.get(action="link.commented")
    assert (event.actor, event.actor_kind) == (ACTOR, "system")
    assert event.data["link"] == link.pk
    assert event.data["note"] == note.pk
    assert event.data["guest"] == "Jo Retailer"
    assert event.subject_id == str(packages[1].pk)
    found = search_notes(workspace_id=link.workspace_id, query="gift box")
    assert [n.pk for n in found] == [note.pk]
    page = client.get(response["Location"])
    assert "Mention the gift box" in page.text
    assert "your comment was sent" in page.text
    assert verify().ok


@pytest.mark.django_db
def test_a_comment_without_a_name_or_text_is_refused(client, shared):
    _, token, packages = shared
    for data in ({"name": "", "text": "hi"}, {"name": "Jo", "text": "   "}, {}):
        response = client.post(comment_url(token, packages[0]), data)
        assert response.status_code == 400
    assert not Note.objects.exists()
    assert not Event.objects.filter(action="link.commented").exists()


@pytest.mark.django_db
def test_a_package_outside_the_link_is_404(client, shared):
    _, token, _ = shared
    other = Package.objects.get(sku="LUM-SPR-FIG-08", channel="amazon_us_pdp")
    assert client.get(package_url(token, other)).status_code == 404
    response = client.post(comment_url(token, other), {"name": "Jo", "text": "sneaky"})
    assert response.status_code == 404
    assert not Note.objects.exists()


@pytest.mark.django_db
def test_the_token_works_until_expiry_and_is_refused_after(client, shared):
    link, token, packages = shared
    assert link.status(link.expires_at - timedelta(seconds=1)) == "active"
    assert link.status(link.expires_at) == "expired"
    ReviewLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() + timedelta(seconds=30))
    assert client.get(review_url(token)).status_code == 200
    ReviewLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    before = Event.objects.count()
    for url in (review_url(token), package_url(token, packages[0])):
        response = client.get(url)
        assert response.status_code == 410
        assert "expired" in response.text
    response = client.post(comment_url(token, packages[0]), {"name": "Jo", "text": "late"})
    assert response.status_code == 410
    assert not Note.objects.exists()
    assert Event.objects.count() == before  # a refused link is not a use


@pytest.mark.django_db
def test_a_revoked_link_is_refused(client, shared, person):
    link, token, packages = shared
    assert client.get(review_url(token)).status_code == 200
    revoke_review_link(person("maya"), link.pk)
    revoked = Event.objects.get(action="link.revoked")
    assert revoked.actor == "maya@lumen.example"
    assert revoked.data["link"] == link.pk
    response = client.get(review_url(token))
    assert response.status_code == 410
    assert "withdrawn" in response.text
    response = client.post(comment_url(token, packages[0]), {"name": "Jo", "text": "hello"})
    assert response.status_code == 410
    assert not Note.objects.exists()


@pytest.mark.django_db
def test_an_unknown_token_is_404(client, shared):
    _, token, packages = shared
    assert client.get(review_url(token[:-2] + "xx")).status_code == 404
    assert client.get(review_url("x" * 300)).status_code == 404


@pytest.mark.django_db
def test_no_gate_action_is_possible_with_the_token(client, shared):
    _, token, packages = shared
    package = packages[0]
    before = package.position
    client.get(review_url(token))  # the guest's browser has opened the link
    decide = reverse("web:package-decide", kwargs={"package_id": package.pk})
    for url in (decide, reverse("web:board-batch", kwargs={"slug": package.brief.slug})):
        response = client.post(url, {"action": "approve", "ids": [package.pk]})
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("web:sign-in"))
    # The other screens still need a signed-in person.
    assert client.get(reverse("web:package", args=[package.pk])).status_code == 302
    assert client.get(reverse("web:board", args=[package.brief.slug])).status_code == 302
    # The review pages take no decision: only GET, and POST of a comment.
    assert client.post(package_url(token, package), {"action": "approve"}).status_code == 405
    client.post(comment_url(token, package), {"name": "Jo", "text": "ok", "action": "approve"})
    # The API refuses without a token of a person.
    assert client.post(f"/api/packages/{package.pk}/approve", {}).status_code in (401, 404, 405)
    package.refresh_from_db()
    assert package.position == before
    assert not package.approvals.exists()


@pytest.mark.django_db
def test_a_content_lead_creates_a_channel_link_from_the_screen(client, spring_run, person):
    client.force_login(ensure_user(person("maya"), PASSWORD))
    page = client.get(reverse("sharing:links"))
    assert page.status_code == 200
    response = client.post(
        reverse("sharing:links"),
        {"brief": "spring-candles-2027", "channel": "meta_feed_ad", "days": "3", "note": "hi"},
    )
    assert response.status_code == 201
    link = ReviewLink.objects.get()
    assert link.scope == {
        "kind": "channel",
        "brief": "spring-candles-2027",
        "channel": "meta_feed_ad",
    }
    assert sorted(link.packages.values_list("id", flat=True)) == channel_package_ids(
        person("maya"), "spring-candles-2027", "meta_feed_ad"
    )
    url = response.text.split('id="new-link">')[1].split("<")[0]
    token = url.rstrip("/").rsplit("/", 1)[1]
    client.logout()
    assert client.get(review_url(token)).status_code == 200

    client.force_login(ensure_user(person("maya")))
    client.post(reverse("sharing:revoke", args=[link.pk]))
    client.logout()
    assert client.get(review_url(token)).status_code == 410


@pytest.mark.django_db
def test_the_links_screen_refuses_other_roles(client, spring_run, person):
    client.force_login(ensure_user(person("ari"), PASSWORD))
    page = client.get(reverse("sharing:links"))
    assert "Only a content lead" in page.text
    package = Package.objects.first()
    response = client.post(reverse("sharing:links"), {"packages": str(package.pk), "days": "3"})
    assert response.status_code == 403
    assert "wrong_role" in response.text
    assert not ReviewLink.objects.exists()


@pytest.mark.django_db
def test_a_link_covers_the_packages_named_or_a_briefs_channel(spring_run, person):
    maya = person("maya")
    channel_ids = channel_package_ids(maya, "spring-candles-2027", "meta_feed_ad")

    by_channel = link_scope(maya, [], brief="spring-candles-2027", channel="meta_feed_ad")
    named = link_scope(maya, [channel_ids[0]], brief="spring-candles-2027", channel="meta_feed_ad")
    brief_only = link_scope(maya, [], brief="spring-candles-2027")

    assert by_channel == (
        channel_ids,
        {"kind": "channel", "brief": "spring-candles-2027", "channel": "meta_feed_ad"},
    )
    assert named == ([channel_ids[0]], {"kind": "packages"})  # named packages win
    assert brief_only == ([], {"kind": "packages"})  # left to create_review_link to refuse
    with pytest.raises(NotFound):
        link_scope(maya, [], brief="spring-candles-2027", channel="../etc")
