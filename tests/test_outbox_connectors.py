"""The channel API connectors (Shopify productSet, Amazon SP-API listings, the Google Merchant
API's product inputs), each against a local server that speaks its protocol (tests/fakes/
channel_apis.py): what is sent, what counts as delivered, rate limits, refusals, takedowns,
and the credentials named in the workspace file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from fakes.channel_apis import FakeAmazon, FakeMerchant, FakeShopify, serve_untrusted_tls
from fakes.delivery_seed import set_destinations

from signoff.audit.models import Event
from signoff.briefs.models import Product
from signoff.core.errors import InputError
from signoff.core.hashing import content_hash
from signoff.outbox.connectors import DeliveryDocument, connector_for
from signoff.outbox.destinations import Destination
from signoff.outbox.models import Attempt, Delivery
from signoff.outbox.rules import Policy, next_step
from signoff.outbox.services import enqueue_launch
from signoff.outbox.worker import work
from signoff.packages.models import Package, Version
from signoff.workspaces.services import load_workspace

BRIEF = "spring-candles-2027"
PDP = "amazon_us_pdp"  # Shopify and Amazon take the PDP copy
MERCHANT = "google_merchant"
SKUS = ("LUM-SPR-LAV-08", "LUM-SPR-NER-08", "LUM-SPR-FIG-08")
ENV = {
    "SHOPIFY_TOKEN": "shpat_test",
    "LWA_CLIENT_ID": "amzn1.application-oa2-client.test",
    "LWA_CLIENT_SECRET": "lwa-secret",
    "SP_REFRESH_TOKEN": "Atzr|refresh",
    "GOOGLE_MERCHANT_TOKEN": "ya29.test",
}
SELLER, MARKETPLACE = "A1SELLER2TEST", "ATVPDKIKX0DER"
ACCOUNT, DATA_SOURCE = "123", "accounts/123/dataSources/456"


@pytest.fixture
def fast(settings):
    settings.SIGNOFF_DELIVERY_BACKOFF_BASE = 0.01
    settings.SIGNOFF_DELIVERY_BACKOFF_CAP = 0.05
    settings.SIGNOFF_DELIVERY_TIMEOUT = 2.0
    settings.SIGNOFF_DELIVERY_POLL_SECONDS = 0.02
    settings.SIGNOFF_DELIVERY_MAX_ATTEMPTS = 4
    return settings


@pytest.fixture
def credentials(monkeypatch):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    return ENV


@pytest.fixture
def apis(credentials):
    with (
        FakeShopify(token=ENV["SHOPIFY_TOKEN"]) as shopify,
        FakeAmazon(
            seller=SELLER,
            client_id=ENV["LWA_CLIENT_ID"],
            secret=ENV["LWA_CLIENT_SECRET"],
            refresh=ENV["SP_REFRESH_TOKEN"],
        ) as amazon,
        FakeMerchant(
            account=ACCOUNT, data_source=DATA_SOURCE, token=ENV["GOOGLE_MERCHANT_TOKEN"]
        ) as merchant,
    ):
        yield shopify, amazon, merchant


def entries(shopify, amazon, merchant, *, dry_run: bool = False) -> list[dict]:
    """The three destinations as the workspace file stores them, pointed at the fakes."""
    return [
        {
            "name": "shop",
            "channel": PDP,
            "kind": "shopify",
            "shop": "lumen-home.myshopify.com",
            "token_env": "SHOPIFY_TOKEN",
            "api_version": "2026-01",
            "endpoint": shopify.url,
        },
        {
            "name": "amazon-us",
            "channel": PDP,
            "kind": "amazon",
            "seller_id": SELLER,
            "marketplace_id": MARKETPLACE,
            "region": "na",
            "lwa_client_id_env": "LWA_CLIENT_ID",
            "lwa_client_secret_env": "LWA_CLIENT_SECRET",
            "refresh_token_env": "SP_REFRESH_TOKEN",
            "dry_run": dry_run,
            "endpoint": amazon.url,
            "token_endpoint": amazon.token_url,
        },
        {
            "name": "merchant",
            "channel": MERCHANT,
            "kind": "google_merchant",
            "account": ACCOUNT,
            "data_source": DATA_SOURCE,
            "token_env": "GOOGLE_MERCHANT_TOKEN",
            "endpoint": merchant.url,
        },
    ]


@pytest.fixture
def sellable(spring_brief):
    """The spring brief's products with the facts the channel APIs need beyond the CSV's."""
    for product in Product.objects.filter(brief_version=spring_brief.latest_version()):
        slug = product.sku.lower()
        product.attributes = {
            **product.attributes,
            "link": f"https://lumen.example/products/{slug}",
            "availability": "in stock",
            "amazon_product_type": "CANDLE",
            "image_link": f"https://cdn.lumen.example/{slug}.jpg",
        }
        product.gtin = with_check_digit(product.gtin[:-1])  # the demo's are made up
        product.save(update_fields=["attributes", "gtin"])
    return spring_brief


def with_check_digit(body: str) -> str:
    """``body`` and its GS1 check digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return f"{body}{(10 - total % 10) % 10}"


COPY = {
    "title": "Lumen Home Lavender Fields Soy Candle, 8 oz",
    "bullet_points": ["Hand-poured soy wax", "About 50 hours of burn time"],
    "description": "A calm candle for slow evenings.\n\nPoured in a reusable stoneware vessel.",
}


def publish(brief, channel: str, skus=SKUS, markets=("en-US",)) -> list[int]:
    """Publish one package per SKU and market on ``channel`` (as a launch leaves them) and write
    their deliveries with the launch's own service; return the delivery ids."""
    brief_version = brief.latest_version()
    packages = []
    for sku, market in ((sku, market) for market in markets for sku in skus):
        package = Package.objects.create(
            brief=brief,
            sku=sku,
            channel=channel,
            market=market,
            stage="S6",
            state=Package.State.PUBLISHED,
            stage_entered_at=timezone.now(),
        )
        fields = {**COPY, "title": f"{COPY['title']} ({sku})"}
        package.current_version = Version.objects.create(
            package=package,
            number=1,
            fields=fields,
            origin={"kind": "person", "note": "test"},
            author="ari@lumen.example",
            brief_version=brief_version,
            content_hash=content_hash(fields),
        )
        package.save(update_fields=["current_version"])
        packages.append(package)
    packages = list(
        Package.objects.filter(pk__in=[p.pk for p in packages])
        .select_related("brief__workspace", "current_version")
        .order_by("id")
    )
    return enqueue_launch(
        brief=brief,
        channel=channel,
        packages=packages,
        approvals=[[] for _ in packages],
        published_at=timezone.now(),
        manifest_hash="0" * 64,
    )


def rows(destination: str) -> list[Delivery]:
    return list(Delivery.objects.filter(destination=destination).order_by("id"))


# --- the workspace file -------------------------------------------------------------------------


@pytest.mark.django_db
def test_channel_api_destinations_load_and_keep_only_variable_names(
    lumen_workspace, example_dir, credentials
):
    path = example_dir / "workspace.yaml"
    text = "\ndestinations:\n" + "".join(
        f"  - {json.dumps(entry)}\n" for entry in entries(*[_Url()] * 3)
    )
    path.write_text(path.read_text() + text, encoding="utf-8")

    workspace, _ = load_workspace(path)

    shop, amazon, merchant = workspace.destinations
    assert (shop["kind"], amazon["kind"], merchant["kind"]) == (
        "shopify",
        "amazon",
        "google_merchant",
    )
    assert (amazon["dry_run"], amazon["region"]) == (False, "na")
    assert merchant["data_source"] == DATA_SOURCE
    stored = json.dumps(workspace.destinations)
    assert not [v for v in ENV.values() if v in stored]  # only the variables' names


@pytest.mark.django_db
def test_a_merchant_destination_that_renews_its_own_token_loads(
    lumen_workspace, example_dir, monkeypatch
):
    for variable, value in GOOGLE_OAUTH.items():
        monkeypatch.setenv(variable, value)
    entry = refreshing_merchant_entry(_Url())
    path = example_dir / "workspace.yaml"
    path.write_text(
        path.read_text() + f"\ndestinations:\n  - {json.dumps(entry)}\n", encoding="utf-8"
    )

    workspace, _ = load_workspace(path)

    (merchant,) = workspace.destinations
    assert merchant["refresh_token_env"] == "GOOGLE_REFRESH_TOKEN"
    assert merchant.get("token_env") is None
    assert merchant["token_endpoint"] == _Url.token_url
    assert not [v for v in GOOGLE_OAUTH.values() if v in json.dumps(merchant)]


class _Url:
    url = token_url = "http://127.0.0.1:9"


SHOP = "{name: s, channel: amazon_us_pdp, kind: shopify, shop: lumen.myshopify.com, token_env: T}"
AMAZON = (
    "{name: a, channel: amazon_us_pdp, kind: amazon, seller_id: A1SELLER2TEST, "
    "marketplace_id: ATVPDKIKX0DER, region: na, lwa_client_id_env: I, lwa_client_secret_env: S, "
    "refresh_token_env: R}"
)
MERCHANT_ENTRY = (
    "{name: m, channel: google_merchant, kind: google_merchant, account: '123', "
    "data_source: accounts/123/dataSources/456, token_env: T}"
)
BAD = [
    (SHOP, set(), "destinations.0.token_env", "the environment variable T is not set"),
    (AMAZON, {"I", "S"}, "destinations.0.refresh_token_env", "the environment variable R is not"),
    (MERCHANT_ENTRY, set(), "destinations.0.token_env", "reads its token from it"),
    (
        SHOP.replace("lumen.myshopify.com", "lumen.example.com"),
        {"T"},
        "destinations.0.shop",
        "should match pattern",
    ),
    (AMAZON.replace("region: na", "region: mars"), {"I", "S", "R"}, "destinations.0.region", "na"),
    (
        MERCHANT_ENTRY.replace("accounts/123/", "accounts/999/"),
        {"T"},
        "destinations.0",
        "is not a data source of account '123'",
    ),
    (
        MERCHANT_ENTRY.replace("token_env: T", "client_id_env: I, refresh_token_env: R"),
        {"I", "R"},
        "destinations.0",
        "client_secret_env missing",
    ),
    (
        MERCHANT_ENTRY.replace("token_env: T", "token_env: T, refresh_token_env: R"),
        {"T", "R"},
        "destinations.0",
        "token_env and refresh_token_env both given",
    ),
    (
        MERCHANT_ENTRY.replace(
            "token_env: T", "client_id_env: I, client_secret_env: S, refresh_token_env: R"
        ),
        {"I", "S"},
        "destinations.0.refresh_token_env",
        "the environment variable R is not set",
    ),
    (
        MERCHANT_ENTRY.replace("token_env: T", "token: ya29.secret"),
        set(),
        "destinations.0.token",
        "unknown field",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("entry", "set_vars", "field", "words"), BAD)
def test_a_bad_channel_api_destination_is_a_located_error(
    lumen_workspace, example_dir, monkeypatch, entry, set_vars, field, words
):
    for name in ("T", "I", "S", "R"):
        if name in set_vars:
            monkeypatch.setenv(name, "set")
        else:
            monkeypatch.delenv(name, raising=False)
    path = example_dir / "workspace.yaml"
    path.write_text(path.read_text() + f"\ndestinations:\n  - {entry}\n", encoding="utf-8")

    with pytest.raises(InputError) as refused:
        load_workspace(path)

    found = [p for p in refused.value.problems if p.field == field]
    assert found, [(p.field, p.message) for p in refused.value.problems]
    assert words in found[0].message
    assert found[0].line == path.read_text().count("\n")
    lumen_workspace.refresh_from_db()
    assert lumen_workspace.destinations == []


@pytest.mark.django_db
def test_a_missing_credential_refuses_the_launch_naming_the_field(sellable, apis, monkeypatch):
    set_destinations(sellable, entries(*apis))
    monkeypatch.delenv("SP_REFRESH_TOKEN")

    with pytest.raises(InputError) as refused:
        publish(sellable, PDP)

    (problem,) = refused.value.problems
    assert problem.field == "destinations.1.refresh_token_env"
    assert "SP_REFRESH_TOKEN is not set" in problem.message
    assert not Delivery.objects.exists()
    assert not any(api.calls for api in apis)


# --- Shopify ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_shopify_upserts_each_package_and_waits_out_throttling(sellable, apis, fast, cli):
    shopify, amazon, merchant = apis
    set_destinations(sellable, entries(*apis)[:1])
    publish(sellable, PDP)
    shopify.plan = ["throttled", "limited"]  # the bucket is empty, then a plain 429

    work(wait_all=True, concurrency=1)

    shop = rows("shop")
    assert {r.state for r in shop} == {"delivered"}
    sets = [c for c in shopify.calls if "productSet(" in c.body["query"]]
    assert len(sets) == len(SKUS) + 2
    call = sets[-1]
    assert call.headers["x-shopify-access-token"] == ENV["SHOPIFY_TOKEN"]
    assert call.path == "/admin/api/2026-01/graphql.json"
    assert "synchronous: true" in call.body["query"]
    handles = {r.document["request"]["identifier"]["handle"] for r in shop}
    assert handles == {s.lower() for s in SKUS} == set(shopify.products)
    for row in shop:  # the receipt is the product Shopify made
        handle = row.document["request"]["identifier"]["handle"]
        assert row.receiver_id == shopify.products[handle]["id"]
        assert shopify.products[handle]["input"] == row.document["request"]["input"]
    retries = Attempt.objects.filter(delivery__destination="shop", outcome="retry")
    assert sorted((a.status, a.error.split(":")[1].strip()) for a in retries) == [
        (429, "Exceeded 2 calls per second"),
        (429, "THROTTLED"),
    ]
    for retry in retries:  # each was sent again only after the wait Shopify asked for
        handle = retry.delivery.document["request"]["identifier"]["handle"]
        times = [c.at for c in sets if c.body["variables"]["identifier"]["handle"] == handle]
        wait = shopify.refill if "THROTTLED" in retry.error else 0.3  # restore time; Retry-After
        assert len(times) == 2
        assert times[1] - times[0] >= wait * 0.9
    listed = cli("deliveries", BRIEF)
    assert "shop (shopify)" in listed.stdout


@pytest.mark.django_db
def test_shopify_user_errors_fail_with_shopifys_words_and_are_not_retried(sellable, apis, fast):
    shopify = apis[0]
    set_destinations(sellable, entries(*apis)[:1])
    publish(sellable, PDP, SKUS[:1])
    shopify.plan = ["user_error"]

    work(wait_all=True)

    (row,) = rows("shop")
    assert (row.state, row.attempts, row.receiver_id) == ("failed", 1, "")
    assert row.last_error == (
        "Shopify userErrors: input.variants.0.price: Price must be greater than or equal to 0 "
        "(INVALID)"
    )
    assert Event.objects.get(action="delivery.failed").data["error"] == row.last_error


# --- Amazon -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_amazon_puts_listings_with_one_lwa_token_and_honours_the_rate_limit(
    sellable, apis, fast, api
):
    _, amazon, _ = apis
    set_destinations(sellable, entries(*apis)[1:2])
    publish(sellable, PDP)
    amazon.plan = ["limited"]

    work(wait_all=True, concurrency=2)

    listed = rows("amazon-us")
    assert {r.state for r in listed} == {"delivered"}
    assert amazon.token_requests == 1  # kept until it expires, shared by the threads
    puts = [c for c in amazon.calls if c.method == "PUT"]
    assert len(puts) == len(SKUS) + 1
    for call in puts:
        assert call.path.startswith(f"/listings/2021-08-01/items/{SELLER}/LUM-SPR-")
        assert call.query["marketplaceIds"] == MARKETPLACE
        assert "mode" not in call.query
        assert call.headers["x-amz-access-token"] in amazon.tokens
        assert call.body["productType"] == "CANDLE"
        assert call.body["requirements"] == "LISTING_PRODUCT_ONLY"
        assert call.body["attributes"]["item_name"][0]["marketplace_id"] == MARKETPLACE
    submissions = {r.receiver_id for r in listed}
    assert len(submissions) == len(SKUS)
    assert all(s.startswith("sub-") for s in submissions)
    assert {sku for sku, _ in amazon.listings} == set(SKUS)
    limited = Attempt.objects.filter(delivery__destination="amazon-us", outcome="retry").get()
    assert (limited.status, limited.error) == (
        429,
        "HTTP 429: QuotaExceeded: You exceeded your quota",
    )
    again = [c for c in puts if c.path == puts[0].path]
    assert again[1].at - again[0].at >= 0.9 / amazon.rate  # x-amzn-RateLimit-Limit: 4/s

    response = api("maya").get(f"/api/briefs/{BRIEF}/deliveries")
    assert response.status_code == 200
    assert {(r["kind"], r["receiver_id"]) for r in response.json()} == {
        ("amazon", r.receiver_id) for r in listed
    }


@pytest.mark.django_db
def test_amazon_dry_run_previews_and_invalid_listings_fail_with_amazons_issues(
    sellable, apis, fast
):
    _, amazon, _ = apis
    set_destinations(sellable, entries(*apis, dry_run=True)[1:2])
    publish(sellable, PDP)
    amazon.plan = ["invalid"]

    work(wait_all=True, concurrency=1)

    refused, *previewed = rows("amazon-us")
    assert (refused.state, refused.attempts) == ("failed", 1)
    assert refused.last_error == (
        "Amazon INVALID: [90220] 'item_type_keyword' is required but not supplied. "
        "(item_type_keyword)"
    )
    assert {r.state for r in previewed} == {"delivered"}
    assert all(r.receiver_id.startswith("VALIDATION_PREVIEW:sub-") for r in previewed)
    puts = [c for c in amazon.calls if c.method == "PUT"]
    assert {c.query["mode"] for c in puts} == {"VALIDATION_PREVIEW"}
    assert amazon.listings == {}  # a preview saves nothing


@pytest.mark.django_db
def test_a_package_the_api_cannot_express_fails_with_its_field_and_nothing_is_sent(
    sellable, apis, fast
):
    _, amazon, _ = apis
    Product.objects.filter(sku=SKUS[0]).update(attributes={})  # no product type, no link
    set_destinations(sellable, entries(*apis)[1:2])
    publish(sellable, PDP, SKUS[:1])

    work(wait_all=True)

    (row,) = rows("amazon-us")
    assert (row.state, row.attempts) == ("failed", 1)
    assert "product.amazon_product_type: Amazon's listings API needs" in row.last_error
    assert amazon.calls == []


# --- Google Merchant ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_merchant_inserts_product_inputs_retries_quota_and_fails_invalid_arguments(
    sellable, apis, fast, as_person
):
    _, _, merchant = apis
    set_destinations(sellable, entries(*apis)[2:])
    publish(sellable, MERCHANT)
    merchant.plan = ["limited", "invalid"]

    work(wait_all=True, concurrency=1)

    first, second, third = rows("merchant")
    assert (second.state, second.attempts, second.last_status) == ("failed", 1, 400)
    assert second.last_error == (
        "HTTP 400: INVALID_ARGUMENT: [product_attributes.gtins] Invalid GTIN value"
    )
    for row in (first, third):
        assert row.state == "delivered"
        assert row.receiver_id == f"accounts/{ACCOUNT}/productInputs/en~US~{row.document['sku']}"
        assert merchant.inputs[row.receiver_id]["productAttributes"]["price"] == {
            "amountMicros": "32000000",
            "currencyCode": "USD",
        }
    retried = Attempt.objects.get(delivery=first, outcome="retry")
    assert retried.error == "HTTP 429: RESOURCE_EXHAUSTED: Quota exceeded for quota metric"
    inserts = [c for c in merchant.calls if c.method == "POST"]
    assert {c.path for c in inserts} == {f"/products/v1/accounts/{ACCOUNT}/productInputs:insert"}
    assert {c.query["dataSource"] for c in inserts} == {DATA_SOURCE}
    assert {c.headers["authorization"] for c in inserts} == {"Bearer ya29.test"}
    attributes = inserts[-1].body["productAttributes"]
    assert attributes["availability"] == "IN_STOCK"
    assert attributes["gtins"] == [
        Product.objects.get(sku=inserts[-1].body["offerId"], brief_version__brief=sellable).gtin
    ]
    assert attributes["link"].startswith("https://lumen.example/products/")

    page = as_person("maya").get(reverse("web:matrix", kwargs={"slug": BRIEF})).text
    for row in (first, second, third):
        assert f'data-delivery="{row.pk}" data-state="{row.state}"' in page
    assert f"receipt {first.receiver_id}" in page
    assert "INVALID_ARGUMENT: [product_attributes.gtins] Invalid GTIN value" in page


@pytest.mark.django_db
def test_a_credential_gone_at_send_time_fails_the_delivery_naming_the_variable(
    sellable, apis, fast, monkeypatch
):
    set_destinations(sellable, entries(*apis)[2:])
    publish(sellable, MERCHANT, SKUS[:1])
    monkeypatch.delenv("GOOGLE_MERCHANT_TOKEN")

    work(wait_all=True)

    (row,) = rows("merchant")
    assert (row.state, row.attempts) == ("failed", 1)
    assert "GOOGLE_MERCHANT_TOKEN (token_env) is not set here" in row.last_error
    assert apis[2].calls == []


# --- takedowns ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_takedowns_archive_delete_and_remove_what_was_delivered(sellable, apis, fast):
    shopify, amazon, merchant = apis
    set_destinations(sellable, entries(*apis))
    publish(sellable, PDP, SKUS[:2])
    publish(sellable, MERCHANT, SKUS[:2])
    work(wait_all=True)
    assert {r.state for r in Delivery.objects.all()} == {"delivered"}
    # As a claim withdrawn after launch leaves them (signoff.outbox.services.mark_for_takedown)
    Delivery.objects.update(
        state="needs_takedown",
        attempts=0,
        next_attempt_at=timezone.now(),
        takedown_reason="claim 'hand-poured' is now withdrawn: it must come down",
    )

    work(wait_all=True)

    assert {r.state for r in Delivery.objects.all()} == {"taken_down"}
    assert {p["status"] for p in shopify.products.values()} == {"ARCHIVED"}
    archived = [c for c in shopify.calls if "productUpdate(" in c.body["query"]]
    assert {c.body["variables"]["product"]["id"] for c in archived} == {
        r.receiver_id for r in rows("shop")
    }
    deletes = [c for c in amazon.calls if c.method == "DELETE"]
    assert len(deletes) == 2
    assert amazon.listings == {}
    assert merchant.inputs == {}
    taken = Event.objects.filter(action="delivery.taken_down")
    assert {e.data["kind"] for e in taken} == {"shopify", "amazon", "google_merchant"}


@pytest.mark.django_db
def test_a_takedown_of_a_package_never_delivered_finds_nothing_live(sellable, apis, fast):
    shopify, _, _ = apis
    set_destinations(sellable, entries(*apis)[:1])
    publish(sellable, PDP, SKUS[:1])
    Delivery.objects.update(state="needs_takedown", next_attempt_at=timezone.now())

    work(wait_all=True)

    (row,) = rows("shop")
    assert row.state == "taken_down"
    (lookup,) = shopify.calls  # looked the handle up; nothing to archive
    assert "productByIdentifier(" in lookup.body["query"]
    assert shopify.products == {}


# --- the connectors alone (no database) --------------------------------------------------------


def test_a_refused_lwa_exchange_fails_with_amazons_words_and_nothing_is_put(credentials):
    from signoff.outbox.connectors import DeliveryDocument, connector_for
    from signoff.outbox.destinations import Destination
    from signoff.outbox.rules import DeliveryState, Policy, next_step

    with FakeAmazon(
        seller=SELLER, client_id=ENV["LWA_CLIENT_ID"], secret=ENV["LWA_CLIENT_SECRET"], refresh="x"
    ) as amazon:
        destination = Destination.from_entry(entries(_Url(), amazon, _Url())[1])
        request = {"sku": "S-1", "marketplace_id": MARKETPLACE, "body": {"productType": "CANDLE"}}
        document = DeliveryDocument(destination, "k", json.dumps({"request": request}).encode())
        result = connector_for(destination, timeout=2).send(document)

    assert (result.ok, result.status) == (False, 400)
    assert result.error == (
        "LWA token exchange refused: invalid_grant: The request has an invalid grant parameter"
    )
    step = next_step(result, attempts=1, policy=Policy(), now=timezone.now())
    assert step.state == DeliveryState.FAILED  # a person must fix the refresh token
    assert [c.path for c in amazon.calls] == ["/auth/o2/token"]


@pytest.mark.parametrize("kind", ["shopify", "amazon", "google_merchant"])
def test_a_delivery_written_for_another_kind_is_refused_not_sent(credentials, kind):
    from signoff.outbox.connectors import DeliveryDocument, connector_for
    from signoff.outbox.destinations import Destination

    entry = next(e for e in entries(_Url(), _Url(), _Url()) if e["kind"] == kind)
    destination = Destination.from_entry(entry)
    document = DeliveryDocument(destination, "k", json.dumps({"package": 1}).encode())

    result = connector_for(destination, timeout=0.5).send(document)

    assert (result.ok, result.transient) == (False, False)
    assert f"this delivery holds no {kind} call" in result.error


def test_docs_describe_each_channel_api_kind():
    text = (Path(__file__).resolve().parents[1] / "docs" / "formats.md").read_text()
    for words in ("kind: shopify", "kind: amazon", "kind: google_merchant", "endpoint"):
        assert words in text


# --- issue #13: tokens that expire, Shopify's own failures, gone products, other markets --------

GOOGLE_OAUTH = {
    "GOOGLE_CLIENT_ID": "123-abc.apps.googleusercontent.com",
    "GOOGLE_CLIENT_SECRET": "GOCSPX-test",
    "GOOGLE_REFRESH_TOKEN": "1//refresh",
}


def refreshing_merchant_entry(merchant) -> dict:
    """A Merchant destination that renews its own access token (no token_env)."""
    return {
        "name": "merchant",
        "channel": MERCHANT,
        "kind": "google_merchant",
        "account": ACCOUNT,
        "data_source": DATA_SOURCE,
        "client_id_env": "GOOGLE_CLIENT_ID",
        "client_secret_env": "GOOGLE_CLIENT_SECRET",
        "refresh_token_env": "GOOGLE_REFRESH_TOKEN",
        "endpoint": merchant.url,
        "token_endpoint": merchant.token_url,
    }


def product_input(offer: str = "S-1") -> bytes:
    """A stored Merchant delivery document, as a launch writes it."""
    request = {
        "offerId": offer,
        "contentLanguage": "en",
        "feedLabel": "US",
        "productAttributes": {"title": "Candle", "price": {"amountMicros": "1000000"}},
    }
    return json.dumps({"request": request}).encode()


@pytest.mark.django_db
def test_merchant_renews_its_token_from_a_refresh_token_and_once_more_after_a_401(
    sellable, fast, monkeypatch
):
    for name, value in GOOGLE_OAUTH.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GOOGLE_MERCHANT_TOKEN", raising=False)
    with FakeMerchant(
        account=ACCOUNT,
        data_source=DATA_SOURCE,
        token="ya29.never-given",
        client_id=GOOGLE_OAUTH["GOOGLE_CLIENT_ID"],
        secret=GOOGLE_OAUTH["GOOGLE_CLIENT_SECRET"],
        refresh=GOOGLE_OAUTH["GOOGLE_REFRESH_TOKEN"],
    ) as merchant:
        set_destinations(sellable, [refreshing_merchant_entry(merchant)])
        publish(sellable, MERCHANT, SKUS[:2])

        work(wait_all=True, concurrency=2)

        assert {r.state for r in rows("merchant")} == {"delivered"}
        assert merchant.token_requests == 1  # one exchange, kept for both
        (exchange,) = [c for c in merchant.calls if c.path == "/token"]
        assert "grant_type=refresh_token" in exchange.body
        inserts = [c for c in merchant.calls if c.method == "POST" and c.path != "/token"]
        assert {c.headers["authorization"] for c in inserts} == {"Bearer ya29.issued-1"}

        # Google let the token lapse early: the 401 drops it and the call goes once more.
        merchant.tokens.clear()
        Delivery.objects.update(state="needs_takedown", attempts=0, next_attempt_at=timezone.now())
        work(wait_all=True, concurrency=1)

        assert {r.state for r in rows("merchant")} == {"taken_down"}
        assert merchant.inputs == {}
        assert merchant.token_requests == 2
        deletes = [c for c in merchant.calls if c.method == "DELETE"]
        assert [c.headers["authorization"] for c in deletes] == [
            "Bearer ya29.issued-1",  # refused (401)
            "Bearer ya29.issued-2",
            "Bearer ya29.issued-2",
        ]

        # An hour on, the kept token is renewed before it is used, without a 401 first.
        from signoff.outbox.connectors import tokens

        destination = Destination.from_entry(refreshing_merchant_entry(merchant))
        later = tokens.clock() + 3600
        monkeypatch.setattr(tokens, "clock", lambda: later)
        result = connector_for(destination, timeout=2).send(
            DeliveryDocument(destination, "k", product_input())
        )
        assert result.ok, result.error
        assert merchant.token_requests == 3
        assert merchant.calls[-2].path == "/token"


def test_a_static_merchant_token_is_read_on_each_send_and_a_401_names_its_variable(
    credentials, monkeypatch
):
    with FakeMerchant(account=ACCOUNT, data_source=DATA_SOURCE, token="ya29.rotated") as merchant:
        destination = Destination.from_entry(entries(_Url(), _Url(), merchant)[2])
        connector = connector_for(destination, timeout=2)
        document = DeliveryDocument(destination, "k", product_input())

        expired = connector.send(document)  # GOOGLE_MERCHANT_TOKEN still holds the old one
        monkeypatch.setenv("GOOGLE_MERCHANT_TOKEN", "ya29.rotated")  # the operator rotates it
        fresh = connector.send(document)

    assert (expired.ok, expired.status) == (False, 401)
    assert expired.error.startswith(
        "Google refused the access token in GOOGLE_MERCHANT_TOKEN (token_env): "
        "UNAUTHENTICATED: Request had invalid credentials."
    )
    assert next_step(expired, attempts=1, policy=Policy(), now=timezone.now()).state == "failed"
    assert fresh.ok, fresh.error
    assert fresh.receiver_id == f"accounts/{ACCOUNT}/productInputs/en~US~S-1"
    assert merchant.calls[-1].headers["authorization"] == "Bearer ya29.rotated"


@pytest.mark.django_db
def test_shopify_internal_server_errors_are_retried_and_throttling_keeps_its_wait(
    sellable, apis, fast
):
    shopify = apis[0]
    set_destinations(sellable, entries(*apis)[:1])
    publish(sellable, PDP, SKUS[:1])
    shopify.plan = ["internal", "internal_503", "throttled"]

    work(wait_all=True)

    (row,) = rows("shop")
    assert (row.state, row.attempts) == ("delivered", 4)
    retries = list(Attempt.objects.filter(delivery=row, outcome="retry").order_by("number"))
    said = "Internal error. Looks like something went wrong on our end."
    assert [(a.status, a.error) for a in retries] == [
        (None, f"Shopify INTERNAL_SERVER_ERROR: {said}"),  # in a 200: Shopify's own failure
        (503, f"HTTP 503: {said}"),
        (429, "HTTP 429: THROTTLED: Throttled"),
    ]


@pytest.mark.django_db
def test_a_shopify_takedown_of_a_product_deleted_in_shopify_is_done(sellable, apis, fast):
    shopify = apis[0]
    set_destinations(sellable, entries(*apis)[:1])
    publish(sellable, PDP, SKUS[:1])
    work(wait_all=True)
    shopify.products.clear()  # someone deleted it in the Shopify admin
    Delivery.objects.update(state="needs_takedown", attempts=0, next_attempt_at=timezone.now())

    work(wait_all=True)

    (row,) = rows("shop")
    assert (row.state, row.attempts) == ("taken_down", 1)
    (archive,) = [c for c in shopify.calls if "productUpdate(" in c.body["query"]]
    assert archive.body["variables"]["product"]["id"] == row.receiver_id


@pytest.mark.django_db
def test_amazon_drops_a_refused_token_and_tries_once_more_before_failing(sellable, apis, fast):
    _, amazon, _ = apis
    set_destinations(sellable, entries(*apis)[1:2])
    publish(sellable, PDP, SKUS[:2])
    work(wait_all=True, ids=[rows("amazon-us")[0].pk])
    assert rows("amazon-us")[0].state == "delivered"
    amazon.tokens.clear()  # the seller rotated the app's credentials: the kept token is void

    work(wait_all=True)

    second = rows("amazon-us")[1]
    assert (second.state, second.attempts) == ("delivered", 1)
    assert amazon.token_requests == 2
    puts = [c for c in amazon.calls if c.method == "PUT"]
    assert [c.headers["x-amz-access-token"] for c in puts[-2:]] == [
        "Atza|token-1",  # refused with 403
        "Atza|token-3",
    ]

    Delivery.objects.filter(pk=second.pk).update(state="pending", next_attempt_at=timezone.now())
    amazon.plan = ["forbidden", "forbidden"]  # refused whatever the token: final, after 2 tries
    work(wait_all=True)

    second.refresh_from_db()
    assert (second.state, second.last_status) == ("failed", 403)
    assert amazon.token_requests == 3  # one new token for the second try, none after


@pytest.mark.parametrize(("how", "state"), [("refused", "pending"), ("untrusted", "failed")])
def test_an_lwa_endpoint_without_an_answer_keeps_the_calls_verdict(
    credentials, tmp_path, how, state
):
    with FakeAmazon(
        seller=SELLER,
        client_id=ENV["LWA_CLIENT_ID"],
        secret=ENV["LWA_CLIENT_SECRET"],
        refresh=ENV["SP_REFRESH_TOKEN"],
    ) as amazon:
        token_url = amazon.token_url  # closed once the block ends: connection refused
    if how == "untrusted":
        tls = FakeAmazon(seller=SELLER, client_id="", secret="", refresh="")
        serve_untrusted_tls(tls, tmp_path)
        with tls:
            result = send_listing(token_url=tls.token_url)
        assert "TLS certificate refused" in result.error
    else:
        result = send_listing(token_url=token_url)
        assert result.error == "LWA token exchange: connection refused (is the receiver up?)"

    assert result.error.startswith("LWA token exchange: ")
    assert next_step(result, attempts=1, policy=Policy(), now=timezone.now()).state == state


def send_listing(*, token_url: str):
    entry = {**entries(_Url(), _Url(), _Url())[1], "token_endpoint": token_url}
    destination = Destination.from_entry(entry)
    request = {"sku": "S-1", "marketplace_id": MARKETPLACE, "body": {"productType": "CANDLE"}}
    document = DeliveryDocument(destination, "k", json.dumps({"request": request}).encode())
    return connector_for(destination, timeout=2).send(document)


@pytest.mark.django_db
def test_an_amazon_destination_gets_deliveries_only_for_its_marketplace(sellable, apis, fast):
    set_destinations(sellable, entries(*apis)[:2])  # shop and amazon-us (ATVPDKIKX0DER)

    publish(sellable, PDP, SKUS[:2], markets=("en-US", "en-GB"))

    listed = rows("amazon-us")
    assert sorted((r.package.sku, r.package.market) for r in listed) == [
        (SKUS[0], "en-US"),
        (SKUS[1], "en-US"),
    ]
    assert all(r.document["request"]["marketplace_id"] == MARKETPLACE for r in listed)
    assert {r.package.market for r in rows("shop")} == {"en-US", "en-GB"}  # every market
