"""The public base URL: configured, or read from the request, and from a proxy only if trusted."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from market.common.iris import Iris, request_base_url, trusted_networks, valid_base_url
from market.common.linked_data import preferred
from market.settings import Settings

PROXY = trusted_networks("10.0.0.0/8, 2001:db8::/32")


def base(headers: dict[str, str], client: str | None = "10.1.2.3", **over: Any) -> str:
    fields: dict[str, Any] = {
        "scheme": "http",
        "headers": headers,
        "server": ("10.9.9.9", 8000),
        "root_path": "",
        "client_host": client,
        "trusted": PROXY,
    }
    fields.update(over)
    return request_base_url(**fields)


def test_the_request_s_own_address_when_nothing_is_forwarded() -> None:
    assert base({"host": "data.example.cn:8000"}) == "http://data.example.cn:8000"
    assert base({"host": "data.example.cn:80"}) == "http://data.example.cn"  # the default port is implied
    assert base({"host": "[2001:db8::1]:8080"}) == "http://[2001:db8::1]:8080"
    assert base({}) == "http://10.9.9.9:8000"  # no Host: the address the server listens on
    assert base({"host": "bad host/x"}) == "http://10.9.9.9:8000"  # never copied into IRIs
    assert base({"host": "h.example"}, root_path="/market") == "http://h.example/market"


def test_forwarded_headers_count_only_from_a_trusted_proxy() -> None:
    forwarded = {"host": "10.0.0.5:8000", "x-forwarded-proto": "https", "x-forwarded-host": "data.example.cn"}
    assert base(forwarded) == "https://data.example.cn"
    assert base(forwarded, client="203.0.113.7") == "http://10.0.0.5:8000"
    assert base(forwarded, client=None) == "http://10.0.0.5:8000"
    assert base(forwarded, client="2001:db8::7") == "https://data.example.cn"
    assert base({**forwarded, "x-forwarded-port": "8443"}) == "https://data.example.cn:8443"
    assert base({**forwarded, "x-forwarded-port": "443"}) == "https://data.example.cn"
    assert base({**forwarded, "x-forwarded-prefix": "/exchange/"}) == "https://data.example.cn/exchange"
    # The first hop is the one the client used; nonsense is ignored, not copied.
    assert base({"x-forwarded-host": "a.example, b.example"}) == "http://a.example"
    assert base({"host": "h.example", "x-forwarded-proto": "gopher"}) == "http://h.example"
    assert base({"host": "h.example", "x-forwarded-prefix": "/a b"}) == "http://h.example"
    rfc7239 = {
        "host": "h.example",
        "forwarded": 'for=192.0.2.1;proto=https;host="data.example.cn", for=10.0.0.1',
    }
    assert base(rfc7239) == "https://data.example.cn"


def test_a_configured_base_url_is_checked() -> None:
    assert valid_base_url("https://Data.Example.cn/") == "https://data.example.cn"
    assert valid_base_url("http://127.0.0.1:8000/prefix") == "http://127.0.0.1:8000/prefix"
    for bad in ("data.example.cn", "ftp://x.example", "https://x.example/?q=1", "https://x.example/#f"):
        with pytest.raises(ValueError, match="not a base URL"):
            valid_base_url(bad)
    with pytest.raises(ValidationError, match="public_base_url"):
        Settings(public_base_url="example.cn")
    with pytest.raises(ValidationError, match="trusted_proxies"):
        Settings(trusted_proxies="10.0.0.0/8, proxy.local")
    assert Settings(public_base_url="").public_base_url == ""


def test_every_object_has_one_iri() -> None:
    iris = Iris("https://data.example.cn")
    assert iris.product("p") == "https://data.example.cn/v1/products/p"
    assert iris.offer("p") == "https://data.example.cn/v1/products/p/offer"
    assert iris.certificate("JLDR-2026-R-000001") == "https://data.example.cn/v1/registry/JLDR-2026-R-000001"
    assert iris.certificate("a/b c") == "https://data.example.cn/v1/registry/a%2Fb%20c"
    assert iris.term("grade-core") == "https://data.example.cn/ns/market#grade-core"
    assert iris.context()["mkt"] == "https://data.example.cn/ns/market#"


def test_content_negotiation_ranks_by_quality_then_by_what_is_offered_first() -> None:
    offered = ("application/json", "application/ld+json", "text/turtle")
    assert preferred(None, offered) == "application/json"
    assert preferred("*/*", offered) == "application/json"
    assert preferred("text/*", offered) == "text/turtle"
    assert preferred("application/ld+json", offered) == "application/ld+json"
    assert preferred("text/turtle;q=0.9, application/json;q=0.8", offered) == "text/turtle"
    assert preferred("application/ld+json;q=0, */*;q=0.1", offered) == "application/json"
    assert preferred("text/html", offered) is None
    assert preferred("text/turtle;q=banana", offered) is None
