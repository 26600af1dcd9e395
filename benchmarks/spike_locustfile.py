"""Locust's side of benchmarks/spike_replay.py: shoppers and the spike's shape.

Each user is one shopper through the CloudFront stand-in, one page a second at the most
(``constant_throughput(1)``): the home page (PHP, the catalogue from the database) and, as a
browser would, a static file from the CDN now and then. The number of users follows the profile
in ``SPIKE_PROFILE`` (JSON written by spike_replay.py): a list of [seconds from the start,
users], linearly in between, then the test stops - bounded in time and in users. Answers
slower than ``SPIKE_SLOW_MS`` (1000) are counted into ``SPIKE_COUNTS`` (JSON) at the end.
Only local addresses: the host must be 127.0.0.1.
"""

from __future__ import annotations

import json
import os
from urllib.parse import urlparse

from locust import HttpUser, LoadTestShape, constant_throughput, events, task

SLOW_MS = float(os.environ.get("SPIKE_SLOW_MS", "1000"))
COUNTS = {"slow": 0}


@events.request.add_listener
def _count_slow(response_time, exception, **_kwargs):
    """Answers slower than SPIKE_SLOW_MS: served, but not at the target latency."""
    if exception is None and response_time > SLOW_MS:
        COUNTS["slow"] += 1


@events.quitting.add_listener
def _write_counts(environment, **_kwargs):
    if os.environ.get("SPIKE_COUNTS"):
        with open(os.environ["SPIKE_COUNTS"], "w", encoding="utf-8") as handle:
            json.dump(COUNTS, handle)


@events.init.add_listener
def _local_only(environment, **_kwargs):
    host = urlparse(environment.host or "").hostname
    if host not in ("127.0.0.1", "localhost"):
        raise SystemExit(f"spike_locustfile: only the local shop may be loaded (got host {host!r})")


class Shopper(HttpUser):
    wait_time = constant_throughput(1)

    def on_start(self):
        self.client.verify = False  # the stand-in's self-signed certificate

    @task(10)
    def home(self):
        self.client.get("/", name="page", timeout=30)

    @task(1)
    def stylesheet(self):
        self.client.get("/static/shop.css", name="static", timeout=30)


class Profile(LoadTestShape):
    """Users over time from SPIKE_PROFILE: [[seconds, users], ...], linear in between."""

    def __init__(self):
        super().__init__()
        with open(os.environ["SPIKE_PROFILE"], encoding="utf-8") as handle:
            self.points = [(float(t), float(u)) for t, u in json.load(handle)]

    def tick(self):
        now = self.get_run_time()
        if now >= self.points[-1][0]:
            return None
        for (t0, u0), (t1, u1) in zip(self.points, self.points[1:], strict=False):
            if t0 <= now < t1:
                users = u0 + (u1 - u0) * (now - t0) / (t1 - t0) if t1 > t0 else u1
                return max(1, round(users)), max(1.0, abs(u1 - u0) / max(1.0, t1 - t0) * 2)
        return None

