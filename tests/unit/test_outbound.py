"""The outbound policy for image URLs: what the Worker fetches for a client, hop by hop."""

from __future__ import annotations

import pytest

from core.exchange import FetchResult
from tests.unit.fakes import AUTH, FakeAi, body_json, make_call, run
from upstream import outbound

PRIVATE = [
    "http://127.0.0.1/a.png",
    "http://127.1/a.png",
    "http://2130706433/a.png",  # decimal
    "http://0x7f000001/a.png",  # hex
    "http://0x7f.0.0.1/a.png",
    "http://0177.0.0.1/a.png",  # octal
    "http://[::1]/a.png",
    "http://[::ffff:127.0.0.1]/a.png",
    "http://[::ffff:7f00:1]/a.png",
    "http://[0:0:0:0:0:ffff:a9fe:a9fe]/",  # 169.254.169.254, IPv4-mapped
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://192.168.0.10./",
    "http://100.64.0.1/",  # carrier-grade NAT
    "http://0.0.0.0/",
    "http://0/",
    "http://[fe80::1%25eth0]/",
    "http://[fc00::1]/",
    "http://224.0.0.1/",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://images.localhost/",
    "https://user:pw@127.0.0.1:8443/",
]


@pytest.mark.parametrize("url", PRIVATE)
def test_private_addresses_are_refused_in_every_notation(url):
    with pytest.raises(outbound.Refused):
        outbound.check(url)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/a.png",
        "file:///etc/passwd",
        "gopher://x/",
        "http:///x",
        "javascript:alert(1)",
    ],
)
def test_only_http_and_https_with_a_host(url):
    with pytest.raises(outbound.Refused):
        outbound.check(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/a.png",
        "http://8.8.8.8/x",
        "https://[2606:4700::1111]/",
        "http://1.1.1.1:8080/",
    ],
)
def test_public_hosts_pass(url):
    assert outbound.check(url) == url


def test_an_allow_list_admits_only_its_hosts_and_trusts_them():
    hosts = ("img.example.com", "127.0.0.1:9000")
    assert outbound.check("https://img.example.com/a.png", hosts)
    assert outbound.check("http://127.0.0.1:9000/a.png", hosts)
    for url in ("https://example.com/a.png", "http://127.0.0.1:9001/", "http://2130706433:9000/"):
        with pytest.raises(outbound.Refused):
            outbound.check(url, hosts)


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


class Hops:
    """A fake `fetch` answering from a table of url -> (status, headers, body)."""

    def __init__(self, table):
        self.table = table
        self.urls: list[str] = []

    async def __call__(self, url, method="GET", headers=None, body=None, *, max_bytes, timeout_s):
        self.urls.append(url)
        status, head, data = self.table[url]
        return FetchResult(status, head, data)


def _vision(urls, fetch, vars=None):
    content = [{"type": "image_url", "image_url": {"url": u}} for u in urls]
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": content}]}
    call = make_call(
        "POST", "/v1/chat/completions", body=body, headers=AUTH, ai=FakeAi(), vars=vars
    )
    call.env.fetch = fetch
    return run(call)


def test_redirects_are_followed_only_to_allowed_hosts():
    fetch = Hops(
        {
            "https://a.example/cat": (302, {"location": "/cat.png"}, b""),
            "https://a.example/cat.png": (200, {"content-type": "image/png"}, PNG),
        }
    )
    assert _vision(["https://a.example/cat"], fetch).status == 200
    assert fetch.urls == ["https://a.example/cat", "https://a.example/cat.png"]


def test_a_redirect_to_a_private_address_is_refused_before_it_is_fetched():
    fetch = Hops({"https://a.example/cat": (302, {"location": "http://169.254.169.254/"}, b"")})
    reply = _vision(["https://a.example/cat"], fetch)
    assert reply.status == 400
    assert fetch.urls == ["https://a.example/cat"]
    error = body_json(reply)["error"]
    assert error["code"] == "image_fetch_failed"
    assert error["param"] == "messages[0].content[0].image_url.url"
    # Nothing about what answered or where it pointed.
    assert "169.254" not in error["message"] and "302" not in error["message"]


def test_errors_do_not_say_what_answered():
    fetch = Hops({"https://a.example/x": (200, {"content-type": "application/json"}, b"{}")})
    error = body_json(_vision(["https://a.example/x"], fetch))["error"]
    assert "application/json" not in error["message"] and "200" not in error["message"]


def test_a_redirect_loop_ends():
    fetch = Hops({"https://a.example/x": (302, {"location": "https://a.example/x"}, b"")})
    assert _vision(["https://a.example/x"], fetch).status == 400
    assert len(fetch.urls) == 4


def test_image_urls_per_request_are_capped_before_any_fetch():
    fetch = Hops({})
    reply = _vision([f"https://a.example/{i}.png" for i in range(9)], fetch)
    assert reply.status == 400
    assert body_json(reply)["error"]["code"] == "too_many_image_urls"
    assert fetch.urls == []
