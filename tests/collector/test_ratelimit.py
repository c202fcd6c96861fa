"""Rate limiting and client identity: the limiter alone, then the real collector over HTTP."""

from __future__ import annotations

import ipaddress
import threading
import time
from email.message import Message
from typing import Any

import pytest

from collector import clientip
from collector.clientip import client_ip, rate_limit_key
from collector.ratelimit import RateDecision, RateLimiter
from support.collector_process import StartCollector
from support.files import payload
from support.web import post_json


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# --- the limiter -----------------------------------------------------------------------


def test_a_new_client_gets_the_whole_budget_then_is_refused() -> None:
    clock = FakeClock()
    limiter = RateLimiter(requests=100, per_seconds=3600, clock=clock)

    decisions = [limiter.hit("10.0.0.1") for _ in range(101)]

    assert decisions[0] == RateDecision(
        allowed=True, limit=100, remaining=99, reset_at=1_000_036, retry_after=0
    )
    assert [d.remaining for d in decisions[:100]] == list(range(99, -1, -1))
    assert all(d.allowed for d in decisions[:100])
    assert decisions[99].reset_at == 1_003_600
    assert decisions[100] == RateDecision(
        allowed=False, limit=100, remaining=0, reset_at=1_003_600, retry_after=36
    )


def test_the_budget_comes_back_one_request_per_interval() -> None:
    clock = FakeClock()
    limiter = RateLimiter(requests=100, per_seconds=3600, clock=clock)
    for _ in range(100):
        limiter.hit("c")

    clock.now += 35
    assert limiter.hit("c").retry_after == 1
    clock.now += 1
    after_interval = limiter.hit("c")
    assert after_interval.allowed and after_interval.remaining == 0
    assert not limiter.hit("c").allowed

    clock.now += 3600
    assert limiter.hit("c").remaining == 99  # fully restored


def test_refused_requests_cost_nothing() -> None:
    clock = FakeClock()
    limiter = RateLimiter(requests=2, per_seconds=60, clock=clock)
    limiter.hit("c"), limiter.hit("c")
    for _ in range(1000):
        assert not limiter.hit("c").allowed
    clock.now += 30
    assert limiter.hit("c").allowed


def test_a_refund_gives_back_one_request_and_never_more_than_the_budget() -> None:
    clock = FakeClock()
    limiter = RateLimiter(requests=3, per_seconds=3600, clock=clock)
    for _ in range(3):
        limiter.hit("c")
    assert not limiter.hit("c").allowed

    assert limiter.refund("c").remaining == 1
    assert limiter.hit("c").allowed
    assert not limiter.hit("c").allowed
    for _ in range(5):
        refunded = limiter.refund("c")
    assert refunded.remaining == 3  # a full budget, not more
    assert [limiter.hit("c").allowed for _ in range(4)] == [True, True, True, False]
    assert limiter.refund("unknown").remaining == 3
    assert len(limiter) == 1  # a refund never adds a client


def test_retry_after_is_a_whole_second_at_least() -> None:
    clock = FakeClock(0.0)
    limiter = RateLimiter(requests=1000, per_seconds=1, clock=clock)
    for _ in range(1000):
        limiter.hit("c")
    refused = limiter.hit("c")
    assert not refused.allowed
    assert refused.retry_after == 1  # 1 ms to wait, but Retry-After counts whole seconds


def test_uneven_intervals_do_not_lose_requests_to_rounding() -> None:
    clock = FakeClock(0.0)
    limiter = RateLimiter(requests=3, per_seconds=10, clock=clock)
    assert [limiter.hit("c").remaining for _ in range(3)] == [2, 1, 0]
    assert not limiter.hit("c").allowed
    clock.now = 10.0  # exactly one full period later the whole budget is back
    assert [limiter.hit("c").allowed for _ in range(4)] == [True, True, True, False]


def test_clients_have_separate_budgets() -> None:
    limiter = RateLimiter(requests=1, per_seconds=60, clock=FakeClock())
    assert limiter.hit("a").allowed
    assert not limiter.hit("a").allowed
    assert limiter.hit("b").allowed


def test_memory_stays_bounded_under_a_flood_of_addresses() -> None:
    clock = FakeClock()
    limiter = RateLimiter(requests=5, per_seconds=3600, max_clients=100, clock=clock)
    for _ in range(5):
        limiter.hit("busy")
    for number in range(1000):  # 10 x max_clients distinct addresses
        limiter.hit(f"flood-{number}")
        assert len(limiter) <= 100
        if number % 50 == 0:
            # A busy client is recently seen, so it is never the one forgotten.
            assert not limiter.hit("busy").allowed


def test_expired_clients_are_dropped_as_traffic_goes_on() -> None:
    clock = FakeClock()
    limiter = RateLimiter(requests=10, per_seconds=60, clock=clock)
    for number in range(50):
        limiter.hit(f"old-{number}")
    clock.now += 61
    for number in range(30):
        limiter.hit(f"new-{number}")
    # Each hit drops up to two expired clients from the old end, so the 50 are gone.
    assert len(limiter) == 30


def test_many_threads_never_get_more_than_the_budget() -> None:
    limiter = RateLimiter(requests=100, per_seconds=3600, clock=FakeClock())
    results: list[bool] = []
    start = threading.Barrier(32)

    def hammer() -> None:
        start.wait()
        allowed = [limiter.hit("same-client").allowed for _ in range(50)]
        results.extend(allowed)

    threads = [threading.Thread(target=hammer) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 32 * 50
    assert sum(results) == 100


@pytest.mark.parametrize(
    "arguments", [(0, 60), (10, 0), (-1, 60)], ids=["no-requests", "no-window", "negative"]
)
def test_nonsense_limits_are_refused(arguments: tuple[int, int]) -> None:
    with pytest.raises(ValueError):
        RateLimiter(*arguments)


# --- who is the client ---------------------------------------------------------------------

LOCAL_PROXY = (ipaddress.ip_network("127.0.0.1/32"),)
PROXY_NETS = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"))


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "expected"),
    [
        # No trusted proxies: the header is ignored, whatever it says.
        ("203.0.113.9", "1.2.3.4", (), "203.0.113.9"),
        ("127.0.0.1", "1.2.3.4", (), "127.0.0.1"),
        # Peer is not trusted: a spoofed header changes nothing.
        ("203.0.113.9", "1.2.3.4", LOCAL_PROXY, "203.0.113.9"),
        # Trusted peer: the rightmost untrusted hop is the client ...
        ("127.0.0.1", "198.51.100.7", LOCAL_PROXY, "198.51.100.7"),
        # ... and whatever the client prepended itself is ignored.
        ("127.0.0.1", "6.6.6.6, 198.51.100.7", LOCAL_PROXY, "198.51.100.7"),
        ("10.1.1.1", "6.6.6.6, 198.51.100.7, 10.2.2.2", PROXY_NETS, "198.51.100.7"),
        # Every hop trusted: the leftmost is where the request started.
        ("10.1.1.1", "10.9.9.9, 10.2.2.2", PROXY_NETS, "10.9.9.9"),
        # Malformed entries mean the chain cannot be followed: fall back to the peer.
        ("127.0.0.1", "6.6.6.6, not-an-ip", LOCAL_PROXY, "127.0.0.1"),
        ("127.0.0.1", "198.51.100.7,", LOCAL_PROXY, "127.0.0.1"),
        ("127.0.0.1", "unknown", LOCAL_PROXY, "127.0.0.1"),
        ("127.0.0.1", "", LOCAL_PROXY, "127.0.0.1"),
        ("127.0.0.1", None, LOCAL_PROXY, "127.0.0.1"),
        # Ports and brackets as some proxies write them.
        ("127.0.0.1", "198.51.100.7:51234", LOCAL_PROXY, "198.51.100.7"),
        ("127.0.0.1", "[2001:db8::1]:443", LOCAL_PROXY, "2001:db8::1"),
        # Normalised forms: IPv4-mapped IPv6 is IPv4, IPv6 is compressed and lower case.
        ("::ffff:203.0.113.9", None, (), "203.0.113.9"),
        ("::ffff:127.0.0.1", "198.51.100.7", LOCAL_PROXY, "198.51.100.7"),
        ("2001:DB8:0:0:0:0:0:1", None, (), "2001:db8::1"),
        ("fd00::5", "2001:0db8::0001", PROXY_NETS, "2001:db8::1"),
        # A peer that is not an address at all (a unix socket) is passed through.
        ("", "1.2.3.4", LOCAL_PROXY, "unknown"),
        ("unix:/run/collector.sock", None, (), "unix:/run/collector.sock"),
    ],
)
def test_client_ip(remote: str, forwarded: str | None, trusted: Any, expected: str) -> None:
    assert client_ip(remote, forwarded, trusted) == expected


def test_a_long_forwarded_header_stays_out_of_the_address_cache() -> None:
    """Recent addresses are cached; a hostile header's long text must not fill the cache."""
    clientip._parsed_cached.cache_clear()
    hostile = ", ".join(f"{number}{'x' * 1000}" for number in range(5))

    assert client_ip("127.0.0.1", hostile, LOCAL_PROXY) == "127.0.0.1"
    assert client_ip("127.0.0.1", hostile, LOCAL_PROXY) == "127.0.0.1"
    assert clientip._parsed_cached.cache_info().currsize == 1  # the peer's address only


def test_rate_limit_key_groups_an_ipv6_network_but_not_ipv4() -> None:
    assert rate_limit_key("203.0.113.9") == "203.0.113.9"
    assert rate_limit_key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert rate_limit_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert rate_limit_key("unknown") == "unknown"


# --- over HTTP, against the real collector ---------------------------------------------------

SUBMIT = "/api/v1/submissions"
BODY = payload()


def rate_headers(headers: Message) -> tuple[int, int, int]:
    return (
        int(headers["X-RateLimit-Limit"]),
        int(headers["X-RateLimit-Remaining"]),
        int(headers["X-RateLimit-Reset"]),
    )


def test_the_101st_request_of_a_client_is_refused(start_collector: StartCollector) -> None:
    running = start_collector(rate_limit={"requests": 100, "per_seconds": 3600})
    started = int(time.time())
    remaining = []
    for _ in range(100):
        status, headers, body = post_json(running.url + SUBMIT, BODY, key=running.key)
        assert status == 200, body
        limit, left, reset = rate_headers(headers)
        assert limit == 100
        assert started < reset <= int(time.time()) + 3600 + 1
        assert "Retry-After" not in headers
        remaining.append(left)
    assert remaining == list(range(99, -1, -1))

    status, headers, body = post_json(running.url + SUBMIT, BODY, key=running.key)

    assert status == 429
    assert body["error"]["status"] == 429
    assert rate_headers(headers)[:2] == (100, 0)
    assert 1 <= int(headers["Retry-After"]) <= 37  # one request's worth: 3600 s / 100
    assert len(running.submission_files()) == 100  # the refused one stored nothing


def test_every_submission_response_carries_the_rate_headers(
    start_collector: StartCollector,
) -> None:
    running = start_collector(rate_limit={"requests": 4, "per_seconds": 3600})
    url = running.url + "/installation_data/"
    responses = [
        post_json(url, BODY),  # 401, no key
        post_json(url, {"successful_installs": "not a list"}, key=running.key),  # 400
        post_json(url, "{}", key=running.key, headers={"Content-Type": "text/plain"}),  # 415
        post_json(url, BODY, key=running.key),  # 200
        post_json(url, BODY, key=running.key),  # 429
    ]
    assert [status for status, _, _ in responses] == [401, 400, 415, 200, 429]
    assert [rate_headers(headers)[1] for _, headers, _ in responses] == [3, 2, 1, 0, 0]


def test_a_spoofed_forwarded_for_does_not_escape_the_limit(
    start_collector: StartCollector,
) -> None:
    running = start_collector(rate_limit={"requests": 3, "per_seconds": 3600})
    statuses = [
        post_json(
            running.url + SUBMIT, BODY, key=running.key, headers={"X-Forwarded-For": f"6.6.6.{n}"}
        )[0]
        for n in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget(
    start_collector: StartCollector,
) -> None:
    running = start_collector(
        rate_limit={"requests": 2, "per_seconds": 3600}, trusted_proxies=["127.0.0.1"]
    )

    def post_as(forwarded_for: str) -> tuple[int, int]:
        status, headers, _ = post_json(
            running.url + SUBMIT, BODY, key=running.key, headers={"X-Forwarded-For": forwarded_for}
        )
        return status, rate_headers(headers)[1]

    assert post_as("198.51.100.1") == (200, 1)
    assert post_as("198.51.100.1") == (200, 0)
    assert post_as("198.51.100.1")[0] == 429
    # A client cannot pick a new identity by prepending addresses: the proxy's entry counts.
    assert post_as("6.6.6.6, 198.51.100.1")[0] == 429
    assert post_as("198.51.100.2") == (200, 1)
    assert post_as("[2001:db8::7]:5555") == (200, 1)


def test_a_workshop_network_can_be_given_a_larger_budget(start_collector: StartCollector) -> None:
    running = start_collector(
        rate_limit={"requests": 2, "overrides": {"203.0.113.0/24": 5, "2001:db8::/48": 3}},
        trusted_proxies=["127.0.0.1"],
    )

    def statuses(client: str, count: int) -> list[tuple[int, int]]:
        answers = [
            post_json(running.url + SUBMIT, BODY, key=running.key, headers={"X-Forwarded-For": c})
            for c in [client] * count
        ]
        return [(status, rate_headers(headers)[0]) for status, headers, _ in answers]

    # the room behind one NAT address gets 5; each address of the network its own 5
    assert statuses("203.0.113.7", 6) == [(200, 5)] * 5 + [(429, 5)]
    assert statuses("203.0.113.8", 1) == [(200, 5)]
    assert statuses("2001:db8:0:1::9", 4) == [(200, 3)] * 3 + [(429, 3)]
    assert statuses("198.51.100.1", 3) == [(200, 2)] * 2 + [(429, 2)]  # everyone else: 2
