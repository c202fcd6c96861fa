"""Per-client rate limiting: ``requests`` per ``per_seconds``, in constant time and memory.

The algorithm is GCRA (the generic cell rate algorithm, a token bucket written as one
number). Each client has a *theoretical arrival time* (TAT): the moment its budget would be
fully restored. One request pushes the TAT ``per_seconds / requests`` seconds further; a
request is refused while that would put the TAT more than ``per_seconds`` ahead of now.
So a client may send ``requests`` at once, then one more every ``per_seconds / requests``
seconds, and a refused request costs nothing. Per client that is one float, and per request
a handful of arithmetic: no list of timestamps that grows with traffic.

Memory is bounded by ``max_clients``: clients live in an ``OrderedDict`` in
least-recently-seen order. A client whose TAT has passed is exactly as good as a new one and
is dropped for free; when the table is still full, the least recently seen client is
forgotten (it gets a fresh budget if it comes back). That is the trade-off: under a flood of
more than ``max_clients`` distinct addresses the quietest clients may be forgiven early, but
memory never grows and a busy client, being recently seen, is never the one evicted.

``RateLimits`` is what the app asks: one limiter for everyone, and one more for each network
of ``collector.rate_limit.overrides`` (a workshop room behind one NAT address), whose clients
each get that network's number of requests instead.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from collector.clientip import IPNetwork, parse_ip, rate_limit_key

# Absorbs float rounding of ``per_seconds / requests`` (e.g. 10 / 3) at exact boundaries.
_EPSILON = 1e-9
# Expired clients dropped per request at most: keeps every call O(1) while the table still
# shrinks faster than any flood can grow it.
_EXPIRED_DROPS_PER_HIT = 2


@dataclass(frozen=True)
class RateDecision:
    """The answer for one request, with everything the X-RateLimit headers need."""

    allowed: bool
    limit: int
    remaining: int  # requests still allowed right now, after this one
    reset_at: int  # unix time when the full budget is back
    retry_after: int  # whole seconds until the next request is allowed; 0 when allowed


class RateLimiter:
    """Thread-safe GCRA limiter keyed by client (an IP address, or an IPv6 /64)."""

    def __init__(
        self,
        requests: int,
        per_seconds: int,
        max_clients: int = 100_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if requests < 1 or per_seconds < 1 or max_clients < 1:
            raise ValueError("requests, per_seconds and max_clients must be at least 1")
        self.limit = requests
        self.period = float(per_seconds)
        self.interval = per_seconds / requests  # seconds one request costs
        self.max_clients = max_clients
        self._clock = clock
        self._tats: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many clients are tracked (for tests and monitoring)."""
        return len(self._tats)

    def hit(self, client: str) -> RateDecision:
        """Count one request of ``client`` and say whether it may proceed."""
        now = self._clock()
        with self._lock:
            tat = max(self._tats.get(client, now), now)
            new_tat = tat + self.interval
            allowed_from = new_tat - self.period
            allowed = now + _EPSILON >= allowed_from
            if allowed:
                tat = new_tat
            self._tats[client] = tat
            self._tats.move_to_end(client)
            self._evict(now)
        if not allowed:
            return RateDecision(
                allowed=False,
                limit=self.limit,
                remaining=0,
                reset_at=math.ceil(tat),
                retry_after=max(1, math.ceil(allowed_from - now - _EPSILON)),
            )
        return self._allowed(tat, now)

    def refund(self, client: str) -> RateDecision:
        """Give back one request ``hit`` allowed: the service failed it, not the client.

        Returns the client's budget as it now stands, for the answer's headers.
        """
        now = self._clock()
        with self._lock:
            tat = max(self._tats.get(client, now) - self.interval, now)
            if client in self._tats:
                self._tats[client] = tat
        return self._allowed(tat, now)

    def _allowed(self, tat: float, now: float) -> RateDecision:
        remaining = math.floor((now + self.period - tat) / self.interval + _EPSILON)
        return RateDecision(
            allowed=True,
            limit=self.limit,
            remaining=max(0, min(self.limit, remaining)),
            reset_at=math.ceil(tat - _EPSILON),
            retry_after=0,
        )

    def _evict(self, now: float) -> None:
        """Drop a few expired clients from the old end, then enforce ``max_clients``."""
        for _ in range(_EXPIRED_DROPS_PER_HIT):
            oldest_client, oldest_tat = next(iter(self._tats.items()))
            if oldest_tat > now:
                break
            del self._tats[oldest_client]
            if not self._tats:
                return
        while len(self._tats) > self.max_clients:
            self._tats.popitem(last=False)


class RateLimits:
    """The limiter for each client address: its override network's, or the default one."""

    def __init__(
        self,
        requests: int,
        per_seconds: int,
        max_clients: int,
        overrides: Sequence[tuple[IPNetwork, int]] = (),
    ) -> None:
        self.default = RateLimiter(requests, per_seconds, max_clients)
        self.overrides = [  # the most specific network first, as the config gives them
            (network, RateLimiter(budget, per_seconds, max_clients))
            for network, budget in overrides
        ]

    def hit(self, client: str) -> RateDecision:
        """Count one request of the client at address ``client`` (an IPv6 one by its /64)."""
        return self._limiter(client).hit(rate_limit_key(client))

    def refund(self, client: str) -> RateDecision:
        """Give back one request of ``client`` (see ``RateLimiter.refund``)."""
        return self._limiter(client).refund(rate_limit_key(client))

    def _limiter(self, client: str) -> RateLimiter:
        if self.overrides:
            address = parse_ip(client)
            for network, limiter in self.overrides:
                if address is not None and address in network:
                    return limiter
        return self.default
