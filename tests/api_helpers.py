"""Helpers the REST API tests share."""

from __future__ import annotations


def api_error(response, status: int, code: str) -> dict:
    """Assert the response is the API's refusal ``{"error": {...}}`` with this status and code;
    return the error object."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]
