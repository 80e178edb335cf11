"""NUL bytes are refused at the door: PostgreSQL could not store them."""

import pytest

pytestmark = pytest.mark.django_db


def test_a_nul_byte_in_the_query_string_is_bad_input(client, lumen_workspace):
    response = client.get("/api/audit/who-approved?sku=A%00B&channel=x")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"


def test_a_nul_byte_in_a_form_field_is_bad_input(client, lumen_workspace):
    response = client.post("/sign-in/", {"username": "maya\x00", "password": "x"})
    assert response.status_code == 422


def test_ordinary_requests_pass(client, lumen_workspace):
    assert client.get("/sign-in/").status_code == 200


def test_a_nul_character_in_a_json_body_is_bad_input(client, lumen_workspace):
    response = client.post(
        "/api/packages/1/reject", '{"note": "a\\u0000b"}', content_type="application/json"
    )
    assert response.status_code == 422
