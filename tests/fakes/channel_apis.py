"""Shopify, Amazon SP-API (with Login with Amazon) and the Google Merchant API, on loopback.

Each fake speaks enough of its protocol to hold a connector to it: it checks the method, the
path, the auth header and the request body's shape (a wrong one is answered 400 or 404, so a
test sees it as a failed delivery), keeps what it was sent (``calls``) and what it holds
(products, listings, inputs), and answers the way the real service does, including its
rate-limit answers. ``plan`` lists the answers to give next, in order (``"ok"`` once it is
empty): for example ``["throttled", "ok"]``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    at: float = field(default_factory=time.monotonic)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass


class FakeAPI:
    """A threaded HTTP server on 127.0.0.1 with a random port; use it as a context manager."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[Call] = []
        self.plan: list[str] = []
        self.counter = 0
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body: Any = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                call = Call(
                    self.command,
                    parts.path,
                    {k: v[0] for k, v in parse_qs(parts.query).items()},
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                with api.lock:
                    api.calls.append(call)
                status, headers, answer = api.answer(call)
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FakeAPI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def next_mode(self) -> str:
        with self.lock:
            return self.plan.pop(0) if self.plan else "ok"

    def next_id(self) -> int:
        with self.lock:
            self.counter += 1
            return self.counter

    def answer(self, call: Call) -> tuple[int, dict[str, str], Any]:
        raise NotImplementedError


# --- Shopify Admin GraphQL ---------------------------------------------------------------------


class FakeShopify(FakeAPI):
    """``POST /admin/api/{version}/graphql.json``: productSet, productByIdentifier and
    productUpdate. Modes: ok, user_error, throttled (a 200 with THROTTLED and the bucket's
    state: the refill takes ``refill`` seconds), limited (HTTP 429 with Retry-After), internal
    (a 200 with INTERNAL_SERVER_ERROR), internal_503 (the same as HTTP 503)."""

    def __init__(self, *, token: str, version: str = "2026-01", refill: float = 0.3) -> None:
        super().__init__()
        self.token = token
        self.version = version
        self.refill = refill
        self.products: dict[str, dict[str, Any]] = {}  # handle -> {id, status, input}

    def answer(self, call: Call) -> tuple[int, dict[str, str], Any]:
        if call.method != "POST" or call.path != f"/admin/api/{self.version}/graphql.json":
            return 404, {}, {"errors": "Not Found"}
        if call.headers.get("x-shopify-access-token") != self.token:
            return 401, {}, {"errors": "[API] Invalid API key or access token"}
        body = call.body if isinstance(call.body, dict) else {}
        query, variables = str(body.get("query", "")), body.get("variables") or {}
        if "productSet(" in query:
            return self._product_set(query, variables)
        if "productByIdentifier(" in query:
            handle = (variables.get("identifier") or {}).get("handle")
            found = self.products.get(handle)
            return (
                200,
                {},
                {"data": {"productByIdentifier": {"id": found["id"]} if found else None}},
            )
        if "productUpdate(" in query:
            product = variables.get("product") or {}
            for held in self.products.values():
                if held["id"] == product.get("id"):
                    held["status"] = product.get("status", held["status"])
                    return (
                        200,
                        {},
                        {
                            "data": {
                                "productUpdate": {
                                    "product": {"id": held["id"], "status": held["status"]},
                                    "userErrors": [],
                                }
                            }
                        },
                    )
            return (
                200,
                {},
                {
                    "data": {
                        "productUpdate": {
                            "product": None,
                            "userErrors": [{"field": ["id"], "message": "Product does not exist"}],
                        }
                    }
                },
            )
        return 200, {}, {"errors": [{"message": "unknown operation"}]}

    def _product_set(self, query: str, variables: dict) -> tuple[int, dict[str, str], Any]:
        data = variables.get("input")
        handle = (variables.get("identifier") or {}).get("handle")
        if (
            "synchronous: true" not in query
            or not isinstance(data, dict)
            or not handle
            or data.get("handle") != handle
            or not data.get("title")
            or not data.get("variants")
        ):
            return 200, {}, {"errors": [{"message": "Variable $input of type ProductSetInput!"}]}
        mode = self.next_mode()
        if mode == "limited":
            return 429, {"Retry-After": "0.3"}, {"errors": "Exceeded 2 calls per second"}
        if mode in ("internal", "internal_503"):  # Shopify's own failure, in a 200 or a 503
            error = {
                "message": "Internal error. Looks like something went wrong on our end.",
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-1"},
            }
            return (503 if mode == "internal_503" else 200), {}, {"errors": [error]}
        if mode == "throttled":
            cost = {
                "requestedQueryCost": 10,
                "actualQueryCost": None,
                "throttleStatus": {
                    "maximumAvailable": 1000.0,
                    "currentlyAvailable": 0,
                    "restoreRate": 10 / self.refill,
                },
            }
            return (
                200,
                {},
                {
                    "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                    "extensions": {"cost": cost},
                },
            )
        if mode == "user_error":
            return (
                200,
                {},
                {
                    "data": {
                        "productSet": {
                            "product": None,
                            "userErrors": [
                                {
                                    "field": ["input", "variants", "0", "price"],
                                    "message": "Price must be greater than or equal to 0",
                                    "code": "INVALID",
                                }
                            ],
                        }
                    }
                },
            )
        held = self.products.setdefault(
            handle, {"id": f"gid://shopify/Product/{1000 + self.next_id()}", "status": "ACTIVE"}
        )
        held["input"] = data
        return (
            200,
            {},
            {
                "data": {
                    "productSet": {
                        "product": {"id": held["id"], "handle": handle},
                        "userErrors": [],
                    }
                },
                "extensions": {"cost": {"requestedQueryCost": 10, "actualQueryCost": 10}},
            },
        )


# --- Amazon SP-API with Login with Amazon -----------------------------------------------------

LISTING_PATH = re.compile(r"^/listings/2021-08-01/items/(?P<seller>[^/]+)/(?P<sku>[^/]+)$")


class FakeAmazon(FakeAPI):
    """``POST /auth/o2/token`` (LWA, refresh_token grant) and ``PUT``/``DELETE``
    ``/listings/2021-08-01/items/{sellerId}/{sku}``. Modes: ok, invalid (200, INVALID with an
    ERROR issue), limited (429 with x-amzn-RateLimit-Limit), forbidden (403 although the token
    is good). Clearing ``tokens`` revokes every token it issued."""

    def __init__(
        self, *, seller: str, client_id: str, secret: str, refresh: str, rate: float = 4.0
    ) -> None:
        super().__init__()
        self.seller, self.client_id, self.secret, self.refresh = seller, client_id, secret, refresh
        self.rate = rate  # requests per second a 429 says are allowed
        self.tokens: set[str] = set()
        self.listings: dict[tuple[str, str], dict[str, Any]] = {}  # (sku, marketplace) -> body

    @property
    def token_url(self) -> str:
        return f"{self.url}/auth/o2/token"

    @property
    def token_requests(self) -> int:
        return sum(1 for c in self.calls if c.path == "/auth/o2/token")

    def answer(self, call: Call) -> tuple[int, dict[str, str], Any]:
        if call.path == "/auth/o2/token" and call.method == "POST":
            form = {k: v[0] for k, v in parse_qs(str(call.body or "")).items()}
            if (
                call.headers.get("content-type", "").split(";")[0]
                != ("application/x-www-form-urlencoded")
                or form.get("grant_type") != "refresh_token"
            ):
                return 400, {}, {"error": "unsupported_grant_type"}
            if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.secret):
                return 401, {}, {"error": "invalid_client", "error_description": "bad client"}
            if form.get("refresh_token") != self.refresh:
                return (
                    400,
                    {},
                    {
                        "error": "invalid_grant",
                        "error_description": "The request has an invalid grant parameter",
                    },
                )
            token = f"Atza|token-{self.next_id()}"
            with self.lock:
                self.tokens.add(token)
            return (
                200,
                {},
                {
                    "access_token": token,
                    "refresh_token": self.refresh,
                    "token_type": "bearer",
                    "expires_in": 3600,
                },
            )
        match = LISTING_PATH.match(call.path)
        if match is None or unquote(match["seller"]) != self.seller:
            return 404, {}, {"errors": [{"code": "NotFound", "message": "Resource not found"}]}
        if call.headers.get("x-amz-access-token") not in self.tokens:
            return (
                403,
                {},
                {
                    "errors": [
                        {
                            "code": "Unauthorized",
                            "message": "Access to requested resource is denied.",
                        }
                    ]
                },
            )
        sku, marketplace = unquote(match["sku"]), call.query.get("marketplaceIds")
        if not marketplace:
            return (
                400,
                {},
                {"errors": [{"code": "InvalidInput", "message": "marketplaceIds missing"}]},
            )
        submission = f"sub-{self.next_id():04d}"
        if call.method == "DELETE":
            if self.listings.pop((sku, marketplace), None) is None:
                return 404, {}, {"errors": [{"code": "NotFound", "message": "no such listing"}]}
            return (
                200,
                {},
                {"sku": sku, "status": "ACCEPTED", "submissionId": submission, "issues": []},
            )
        body = call.body if isinstance(call.body, dict) else {}
        attributes = body.get("attributes")
        if (
            call.method != "PUT"
            or not body.get("productType")
            or body.get("requirements") not in ("LISTING", "LISTING_PRODUCT_ONLY")
            or not isinstance(attributes, dict)
            or any(v.get("marketplace_id") != marketplace for vs in attributes.values() for v in vs)
        ):
            return 400, {}, {"errors": [{"code": "InvalidInput", "message": "bad listing body"}]}
        mode = self.next_mode()
        if mode == "forbidden":  # the token was revoked or rotated after it was issued
            return 403, {}, {"errors": [{"code": "Unauthorized", "message": "Access denied"}]}
        if mode == "limited":
            return (
                429,
                {"x-amzn-RateLimit-Limit": f"{self.rate}"},
                {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota"}]},
            )
        preview = call.query.get("mode") == "VALIDATION_PREVIEW"
        if mode == "invalid":
            return (
                200,
                {},
                {
                    "sku": sku,
                    "status": "INVALID",
                    "submissionId": submission,
                    "issues": [
                        {
                            "code": "90220",
                            "message": "'item_type_keyword' is required but not supplied.",
                            "severity": "ERROR",
                            "attributeNames": ["item_type_keyword"],
                        }
                    ],
                },
            )
        if not preview:
            with self.lock:
                self.listings[(sku, marketplace)] = body
        return (
            200,
            {},
            {
                "sku": sku,
                "status": "VALID" if preview else "ACCEPTED",
                "submissionId": submission,
                "issues": [],
            },
        )


# --- Google Merchant API (products v1) ---------------------------------------------------------


class FakeMerchant(FakeAPI):
    """``POST /products/v1/accounts/{account}/productInputs:insert?dataSource=...`` and
    ``DELETE /products/v1/accounts/{account}/productInputs/{name}?dataSource=...``, and ``POST
    /token`` (Google's OAuth 2.0 token endpoint, refresh_token grant). Modes: ok, invalid (400
    INVALID_ARGUMENT), limited (429 RESOURCE_EXHAUSTED)."""

    def __init__(
        self,
        *,
        account: str,
        data_source: str,
        token: str,
        client_id: str = "",
        secret: str = "",
        refresh: str = "",
        expires_in: int = 3599,
    ) -> None:
        super().__init__()
        self.account, self.data_source, self.token = account, data_source, token
        self.client_id, self.secret, self.refresh = client_id, secret, refresh
        self.expires_in = expires_in
        self.tokens: set[str] = {token}  # the access tokens it takes now (clear: all expired)
        self.inputs: dict[str, dict[str, Any]] = {}  # name -> the ProductInput

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    @property
    def token_requests(self) -> int:
        return sum(1 for c in self.calls if c.path == "/token")

    def _token(self, call: Call) -> tuple[int, dict[str, str], Any]:
        """Google's OAuth 2.0 token endpoint, refresh_token grant only."""
        form = {k: v[0] for k, v in parse_qs(str(call.body or "")).items()}
        if form.get("grant_type") != "refresh_token":
            return 400, {}, {"error": "unsupported_grant_type"}
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.secret):
            return 401, {}, {"error": "invalid_client", "error_description": "Unauthorized"}
        if not self.refresh or form.get("refresh_token") != self.refresh:
            return 400, {}, {"error": "invalid_grant", "error_description": "Bad Request"}
        token = f"ya29.issued-{self.next_id()}"
        with self.lock:
            self.tokens.add(token)
        return (
            200,
            {},
            {"access_token": token, "expires_in": self.expires_in, "token_type": "Bearer"},
        )

    def _error(self, code: int, status: str, message: str) -> tuple[int, dict[str, str], Any]:
        return code, {}, {"error": {"code": code, "message": message, "status": status}}

    def answer(self, call: Call) -> tuple[int, dict[str, str], Any]:
        if call.path == "/token" and call.method == "POST":
            return self._token(call)
        prefix = f"/products/v1/accounts/{self.account}/productInputs"
        if not call.path.startswith(prefix):
            return self._error(404, "NOT_FOUND", f"no method at {call.path}")
        if call.headers.get("authorization") not in {f"Bearer {t}" for t in self.tokens}:
            return self._error(401, "UNAUTHENTICATED", "Request had invalid credentials.")
        if call.query.get("dataSource") != self.data_source:
            return self._error(400, "INVALID_ARGUMENT", "dataSource is not an API data source")
        if call.method == "DELETE":
            name = unquote(call.path.removeprefix("/products/v1/"))
            if self.inputs.pop(name, None) is None:
                return self._error(404, "NOT_FOUND", f"{name} not found")
            return 200, {}, {}
        if call.method != "POST" or call.path != f"{prefix}:insert":
            return self._error(404, "NOT_FOUND", f"no method at {call.path}")
        body = call.body if isinstance(call.body, dict) else {}
        attributes = body.get("productAttributes")
        if not all(body.get(k) for k in ("offerId", "contentLanguage", "feedLabel")) or not (
            isinstance(attributes, dict)
            and attributes.get("title")
            and str((attributes.get("price") or {}).get("amountMicros", "")).isdigit()
        ):
            return self._error(400, "INVALID_ARGUMENT", "offerId, contentLanguage, feedLabel")
        mode = self.next_mode()
        if mode == "limited":
            return self._error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric")
        if mode == "invalid":
            return self._error(
                400, "INVALID_ARGUMENT", "[product_attributes.gtins] Invalid GTIN value"
            )
        segment = f"{body['contentLanguage']}~{body['feedLabel']}~{body['offerId']}"
        name = f"accounts/{self.account}/productInputs/{segment}"
        stored = {**body, "name": name, "product": f"accounts/{self.account}/products/{segment}"}
        with self.lock:
            self.inputs[name] = stored
        return 200, {}, stored


def serve_untrusted_tls(api: FakeAPI, folder: Any) -> None:
    """Make ``api`` (not started yet) answer over TLS with a self-signed certificate, which a
    client that verifies certificates refuses: its ``url`` becomes ``https://``."""
    import datetime
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake.invalid")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    api.server.socket = context.wrap_socket(api.server.socket, server_side=True)
    api.url = api.url.replace("http://", "https://")
