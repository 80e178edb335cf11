"""The user's files load; bad input fails with file, line, field and nothing stored."""

import filecmp
from decimal import Decimal
from pathlib import Path

import pytest

from signoff.briefs.models import Brief, BriefVersion, Product
from signoff.briefs.services import add_brief
from signoff.core.errors import InputError
from signoff.workspaces.models import Workspace
from signoff.workspaces.services import load_workspace
from tests.conftest import DEMO_EXAMPLE, SHARED_EXAMPLES

pytestmark = pytest.mark.django_db


def _problems(exc_info) -> list:
    return exc_info.value.problems


def _line_of(path: Path, text: str, occurrence: int = 1) -> int:
    lines = [n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    return lines[occurrence - 1]


@pytest.mark.skipif(not SHARED_EXAMPLES.is_dir(), reason="shared examples not beside the repo")
def test_shipped_demo_copy_matches_the_shared_examples():
    comparison = filecmp.dircmp(SHARED_EXAMPLES / "lumen-home", DEMO_EXAMPLE)
    assert not comparison.diff_files
    assert not comparison.left_only
    assert not filecmp.dircmp(
        SHARED_EXAMPLES / "lumen-home" / "briefs", DEMO_EXAMPLE / "briefs"
    ).diff_files


@pytest.mark.skipif(not SHARED_EXAMPLES.is_dir(), reason="shared examples not beside the repo")
def test_every_shared_example_loads():
    root = SHARED_EXAMPLES / "lumen-home"
    workspace, created = load_workspace(root / "workspace.yaml")
    assert created
    assert workspace.people.count() == 6
    spring = add_brief(root / "briefs" / "spring-candles.yaml", products_csv=root / "products.csv")
    cozy = add_brief(root / "briefs" / "cozy-season-campaign.yaml")
    assert spring.version.products.count() == 6
    assert cozy.brief.content_type == "campaign"
    assert cozy.version.products.get(sku="LUM-WIN-EMB-14").images == [
        "references/ember-packshot.png"
    ]


def test_workspace_loads_people_claims_and_voice(lumen_workspace):
    assert lumen_workspace.name == "Lumen Home"
    roles = dict(lumen_workspace.people.values_list("email", "roles"))
    assert roles["omar@lumen.example"] == ["compliance"]
    statuses = dict(lumen_workspace.claims.values_list("claim_id", "status"))
    assert statuses == {
        "clean-burning": "pending",
        "eco": "needs_substantiation",
        "hand-poured": "approved",
        "non-toxic": "forbidden",
        "phthalate-free": "approved",
    }
    assert lumen_workspace.brand["voice"]["max_sentence_words"] == 24


def test_reloading_a_workspace_updates_it_and_keeps_removed_people(example_dir, lumen_workspace):
    path = example_dir / "workspace.yaml"
    text = path.read_text().replace(
        "  - {email: daniel@lumen.example, name: Daniel Brooks, roles: [ceo]}\n", ""
    )
    path.write_text(text.replace("name: Lumen Home\n", "name: Lumen Home Co\n", 1))
    workspace, created = load_workspace(path)
    assert not created
    assert workspace.name == "Lumen Home Co"
    daniel = workspace.people.get(email="daniel@lumen.example")
    assert not daniel.active
    assert daniel.roles == []


def test_brief_with_csv_reports_where_each_fact_came_from(lumen_workspace, example_dir):
    path = example_dir / "briefs" / "spring-candles.yaml"
    csv = example_dir / "products.csv"
    csv.write_text(
        csv.read_text().replace(
            "LUM-SPR-LAV-08,Lavender Fields Candle,00850012345018,32.00",
            "LUM-SPR-LAV-08,Lavender Fields Candle,00850012345018,34.00",
        )
    )
    report = add_brief(path, products_csv=csv)
    lavender = report.version.products.get(sku="LUM-SPR-LAV-08")
    assert lavender.price == Decimal("34.00")
    assert lavender.field_sources["price"] == "csv"
    assert ("LUM-SPR-LAV-08", "price", "32.00", "34.00") in report.conflicts
    rhubarb = report.version.products.get(sku="LUM-SPR-RHB-08")
    assert rhubarb.gtin == ""  # an empty CSV cell never invents or erases a value
    assert "burn_time_hours" not in rhubarb.attributes
    assert rhubarb.claims == ["phthalate-free", "hand-poured", "clean-burning"]


def test_adding_the_same_brief_twice_keeps_one_version(lumen_workspace, example_dir):
    path = example_dir / "briefs" / "spring-candles.yaml"
    first = add_brief(path)
    second = add_brief(path)
    assert first.created_version
    assert not second.created_version
    assert BriefVersion.objects.filter(brief=first.brief).count() == 1


def test_yaml_syntax_error_names_file_and_line(lumen_workspace, tmp_path):
    bad = tmp_path / "brief.yaml"
    bad.write_text("brief: x\nname: X\nchannels: [amazon_us_pdp\nworkspace: lumen-home\n")
    with pytest.raises(InputError) as exc:
        add_brief(bad)
    (problem,) = _problems(exc)
    assert problem.file == str(bad)
    assert problem.line is not None
    assert problem.line >= 3
    assert problem.line == 4
    assert problem.message == (
        "YAML syntax error: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence that starts at line 3)"
    )


@pytest.mark.parametrize(
    ("old", "new", "field", "expected", "marker", "occurrence"),
    [
        # An unknown channel: the list index and the known ids.
        (
            "channels: [amazon_us_pdp,",
            "channels: [amazon_uk_pdp,",
            "channels.0",
            "unknown channel 'amazon_uk_pdp'",
            "channels:",
            1,
        ),
        # A claim id that the registry does not have.
        (
            "claims: [phthalate-free, hand-poured]",
            "claims: [phthalate-free, hand-made]",
            "products.0.claims.1",
            "not in the workspace's claims registry",
            "hand-made",
            1,
        ),
        # A negative price.
        (
            "amount: 32.00",
            "amount: -32.00",
            "products.0.price.amount",
            "expected a price of 0 or more, got -32.0",
            "amount: -32.00",
            1,
        ),
        # A SKU listed twice.
        (
            "sku: LUM-SPR-NER-08",
            "sku: LUM-SPR-LAV-08",
            "products.1.sku",
            "listed twice",
            "sku: LUM-SPR-LAV-08",
            2,
        ),
    ],
)
def test_bad_brief_fails_with_location_and_stores_nothing(
    lumen_workspace, example_dir, old, new, field, expected, marker, occurrence
):
    path = example_dir / "briefs" / "spring-candles.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(InputError) as exc:
        add_brief(path)
    (problem,) = _problems(exc)
    assert problem.file == str(path)
    assert problem.field == field
    assert expected in problem.message
    assert problem.line == _line_of(path, marker, occurrence)
    assert not Brief.objects.exists()
    assert not Product.objects.exists()


def test_brief_price_errors_are_worded_as_the_csv_words_them(lumen_workspace, example_dir):
    path = example_dir / "briefs" / "spring-candles.yaml"
    text = path.read_text()
    path.write_text(text.replace("amount: 32.00", "amount: -48.0", 1))
    with pytest.raises(InputError) as exc:
        add_brief(path)
    (problem,) = _problems(exc)
    assert problem.message == "expected a price of 0 or more, got -48.0"
    path.write_text(text.replace("amount: 32.00", "amount: 32.005", 1))
    with pytest.raises(InputError) as exc:
        add_brief(path)
    (problem,) = _problems(exc)
    assert problem.message == "expected at most 2 decimal places, got 32.005"


def test_csv_unknown_claim_lists_the_known_claim_ids(lumen_workspace, example_dir):
    csv = example_dir / "products.csv"
    lines = csv.read_text().splitlines()
    header = lines[0].split(",")
    assert "claims" in header, header
    column = header.index("claims")
    cells = lines[1].split(",")
    cells[column] = "hand-made"
    lines[1] = ",".join(cells)
    csv.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as exc:
        add_brief(example_dir / "briefs" / "spring-candles.yaml", products_csv=csv)
    (problem,) = _problems(exc)
    assert (problem.file, problem.line, problem.field) == (str(csv), 2, "claims")
    assert problem.message == (
        "claim 'hand-made' is not in the workspace's claims registry (known: clean-burning, "
        "eco, hand-poured, non-toxic, phthalate-free)"
    )
    assert not Brief.objects.exists()


def test_csv_missing_column_names_the_header_row(lumen_workspace, example_dir):
    csv = example_dir / "products.csv"
    lines = csv.read_text().splitlines()
    csv.write_text("\n".join(line.split(",", 1)[1] for line in lines) + "\n")  # drop `sku`
    with pytest.raises(InputError) as exc:
        add_brief(example_dir / "briefs" / "spring-candles.yaml", products_csv=csv)
    (problem,) = _problems(exc)
    assert (problem.file, problem.line) == (str(csv), 1)
    assert "missing column(s) sku" in problem.message
    assert not Brief.objects.exists()


def test_csv_negative_price_and_duplicate_sku_name_their_rows(lumen_workspace, example_dir):
    csv = example_dir / "products.csv"
    lines = csv.read_text().splitlines()
    lines[2] = lines[2].replace(",32.00,", ",-1.00,")
    lines.append(lines[1])
    csv.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as exc:
        add_brief(example_dir / "briefs" / "spring-candles.yaml", products_csv=csv)
    by_field = {p.field: p for p in _problems(exc)}
    assert by_field["price"].line == 3
    assert "expected a price of 0 or more" in by_field["price"].message
    assert by_field["sku"].line == len(lines)
    assert "listed twice (first on row 2)" in by_field["sku"].message
    assert not Brief.objects.exists()


def test_workspace_errors_name_line_and_field(tmp_path, db):
    bad = tmp_path / "workspace.yaml"
    bad.write_text(
        "workspace: acme\nname: Acme\nchannels: [amazon_us_pdp, tiktok_shop]\n"
        "claims:\n  - {id: a, text: x, status: approved}\n  - {id: a, text: y, status: approved}\n"
        "people:\n  - {email: a@acme.example, name: A, roles: [chief]}\n"
    )
    with pytest.raises(InputError) as exc:
        load_workspace(bad)
    found = {(p.field, p.line) for p in _problems(exc)}
    assert ("channels.1", 3) in found
    assert ("claims.1", 6) in found
    assert ("people.0.roles.0", 8) in found
    assert not Workspace.objects.exists()


def test_brief_for_unknown_workspace_is_refused(db, example_dir):
    with pytest.raises(InputError) as exc:
        add_brief(example_dir / "briefs" / "spring-candles.yaml")
    (problem,) = _problems(exc)
    assert problem.field == "workspace"
    assert problem.line == 4


def test_workflow_settings_are_checked_against_their_template_at_load(tmp_path, db):
    bad = tmp_path / "workspace.yaml"
    bad.write_text(
        "workspace: acme\nname: Acme\nchannels: [amazon_us_pdp]\n"
        "workflows:\n"
        "  ecommerce:\n"
        "    sla_hours: {G2: -4, G9: 3, G3: true}\n"  # line 6
        "    owners:\n"
        "      G3: operator\n"  # line 8
        "      G4: editor\n"  # line 9
        "  social:\n"
        "    owners: {G2: cmo}\n"  # line 11
        "  newsletter: {}\n"  # line 12
    )
    with pytest.raises(InputError) as exc:
        load_workspace(bad)
    found = {p.field: (p.line, p.message) for p in _problems(exc)}
    assert found == {
        "workflows.ecommerce.sla_hours.G2": (6, "expected a positive number of hours, got -4"),
        "workflows.ecommerce.sla_hours.G9": (
            6,
            "unknown gate for ecommerce; expected one of G1, G2, G3, G4",
        ),
        "workflows.ecommerce.sla_hours.G3": (6, "expected a positive number of hours, got True"),
        "workflows.ecommerce.owners.G3": (
            8,
            "operator owns no gate; expected a deciding role: "
            "content_lead, compliance, brand_manager, cmo, ceo",
        ),
        "workflows.ecommerce.owners.G4": (
            9,
            "unknown role 'editor'; expected one of "
            "content_lead, compliance, brand_manager, cmo, ceo",
        ),
        "workflows.social.owners.G2": (
            11,
            "unknown gate for social; expected one of review, launch",
        ),
        "workflows.newsletter": (
            12,
            "unknown workflow template; expected one of ecommerce, campaign, social",
        ),
    }
    assert not Workspace.objects.exists()


def test_good_workflow_settings_load_and_apply(tmp_path, db):
    from signoff.workflow import load_template

    good = tmp_path / "workspace.yaml"
    good.write_text(
        "workspace: acme\nname: Acme\nchannels: [amazon_us_pdp]\n"
        "workflows:\n  ecommerce:\n    sla_hours: {G2: 4.5}\n    owners: {G3: brand_manager}\n"
    )
    workspace, _ = load_workspace(good)
    template = load_template("ecommerce", workspace.workflows["ecommerce"])
    assert template.gate("G2").sla_hours == 4.5
    assert template.gate("G3").owner == "brand_manager"


def test_a_model_for_the_brief_enricher_is_refused_at_load(example_dir, lumen_workspace):
    from click.testing import CliRunner

    from signoff.cli import main

    # given: the workspace file names a model for the builtin-only enricher
    path = example_dir / "workspace.yaml"
    path.write_text(
        path.read_text().replace("name: Lumen Home\n", "name: Lumen Home Co\n", 1)
        + "providers:\n  copy_drafter: 'openai:gpt-x'\n  brief_enricher: 'anthropic:claude-x'\n"
    )

    # when: it is loaded
    with pytest.raises(InputError) as exc:
        load_workspace(path)

    # then: the entry is named with its line, and nothing is stored
    (problem,) = _problems(exc)
    assert (problem.field, problem.line) == (
        "providers.brief_enricher",
        _line_of(path, "brief_enricher:"),
    )
    assert problem.message.startswith(
        "the brief enricher runs builtin only, not 'anthropic:claude-x'"
    )
    lumen_workspace.refresh_from_db()
    assert (lumen_workspace.name, lumen_workspace.providers) == ("Lumen Home", {})

    # then: the CLI says so and exits 2
    result = CliRunner().invoke(main, ["load", str(path)])
    assert result.exit_code == 2
    assert (
        f"{path}:{problem.line}: providers.brief_enricher: the brief enricher runs builtin only"
    ) in result.output

    # when: the enricher is named builtin, the file loads
    path.write_text(path.read_text().replace("'anthropic:claude-x'", "builtin"))
    workspace, _ = load_workspace(path)
    assert workspace.providers == {"copy_drafter": "openai:gpt-x", "brief_enricher": "builtin"}
