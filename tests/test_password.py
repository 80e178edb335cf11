"""People from the workspace file get a web password from a local admin command."""

import pytest
from click.testing import CliRunner

from signoff.cli import main

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_weak_password_is_refused_and_a_good_one_signs_in(lumen_workspace, client):
    runner = CliRunner()
    weak = runner.invoke(main, ["password", "ari@lumen.example", "--stdin"], input="short\n")
    assert weak.exit_code == 1
    assert "too short" in weak.output
    assert not client.login(username="ari@lumen.example", password="short")
    good = runner.invoke(
        main, ["password", "ari@lumen.example", "--stdin"], input="lantern-meadow-quiet\n"
    )
    assert good.exit_code == 0, good.output
    assert client.login(username="ari@lumen.example", password="lantern-meadow-quiet")


def test_an_unknown_person_is_a_clear_error(lumen_workspace):
    result = CliRunner().invoke(
        main, ["password", "nobody@lumen.example", "--stdin"], input="lantern-meadow-quiet\n"
    )
    assert result.exit_code == 1
    assert "no active person 'nobody@lumen.example'" in result.output
