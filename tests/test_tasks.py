"""Runs queued for the worker: the CLI enqueues, `signoff worker` drafts."""

import pytest
from click.testing import CliRunner

from signoff.cli import main
from signoff.packages.models import Package

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_background_run_is_drafted_by_the_worker(approved_spring_brief):
    runner = CliRunner()
    queued = runner.invoke(main, ["run", approved_spring_brief.slug, "--background"])
    assert queued.exit_code == 0, queued.output
    assert "Queued run" in queued.output
    assert not Package.objects.exists()  # nothing happens until a worker takes it
    worked = runner.invoke(main, ["worker", "--batch"])
    assert worked.exit_code == 0, worked.output
    assert Package.objects.filter(state="in_review").count() == 32
    assert Package.objects.filter(state="blocked").count() == 4


def test_a_run_that_would_be_refused_is_not_queued(spring_brief):
    result = CliRunner().invoke(main, ["run", spring_brief.slug, "--background"])
    assert result.exit_code == 3
    assert "has not passed G1" in result.output
