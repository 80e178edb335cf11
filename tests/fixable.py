"""A package with a suggested fix to apply, for the tests of applying one (web, API, service)."""

from __future__ import annotations

from collections.abc import Callable

from signoff.packages.authoring import edit_package
from signoff.packages.models import Finding, Package
from signoff.workspaces.models import Person

SKU, CHANNEL = "LUM-SPR-NER-08", "amazon_us_pdp"


def fixable_finding(person: Callable[[str], Person]) -> Finding:
    """Ari writes "Cheap" into a title: the voice check suggests "Affordable" (version 2)."""
    package = Package.objects.select_related("current_version").get(sku=SKU, channel=CHANNEL)
    title = package.current_version.fields["title"]
    edit_package(
        package_id=package.pk,
        person=person("ari"),
        changes={"title": title.replace("Candle", "Cheap Candle")},
        note="testing",
    )
    package.refresh_from_db()
    finding = Finding.objects.get(version=package.current_version, rule_id="voice.banned_phrase")
    assert "Affordable" in finding.suggested_fix
    return finding
