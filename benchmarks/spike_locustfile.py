"""Locust's side of benchmarks/spike_replay.py: shoppers and the spike's shape.

Each user is one shopper through the CloudFront stand-in: the stylesheet once (a browser's first
visit; the CDN serves it from then on, out of its cache and the browser's), then the home page
(PHP, the catalogue from the database) ``SPIKE_PACE`` times a second (1; 0: as fast as answers
come, to find what one instance serves). So the users are the ALB's requests per second. The
number of users follows the profile in ``SPIKE_PROFILE`` (JSON written by spike_replay.py): a
list of [seconds from the start, users], linear in between, then the test stops - bounded in
time and in users. Answers slower than ``SPIKE_SLOW_MS`` (1000) are counted into
``SPIKE_COUNTS`` (JSON) at the end. Only local addresses: the host must be 127.0.0.1.
"""

from __future__ import annotations

import json
import os
from urllib.parse import urlparse

from locust import HttpUser, LoadTestShape, constant, constant_throughput, events, task

SLOW_MS = float(os.environ.get("SPIKE_SLOW_MS", "1000"))
PACE = float(os.environ.get("SPIKE_PACE", "1"))
MAX_USERS = 400  # a bound of our own: this machine's load generator, not the shop's capacity
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
    wait_time = constant_throughput(PACE) if PACE > 0 else constant(0)

    def on_start(self):
        self.client.verify = False  # the stand-in's self-signed certificate
        self.client.get("/static/shop.css", name="static", timeout=30)

    @task
    def home(self):
        self.client.get("/", name="page", timeout=30)


class Profile(LoadTestShape):
    """Users over time from SPIKE_PROFILE: [[seconds, users], ...], linear in between."""

    def __init__(self):
        super().__init__()
        with open(os.environ["SPIKE_PROFILE"], encoding="utf-8") as handle:
            self.points = [(float(t), float(u)) for t, u in json.load(handle)]
        if max(u for _, u in self.points) > MAX_USERS:
            raise SystemExit(f"spike_locustfile: at most {MAX_USERS} users (the profile asks for "
                             f"{max(u for _, u in self.points):g})")

    def tick(self):
        now = self.get_run_time()
        if now >= self.points[-1][0]:
            return None
        for (t0, u0), (t1, u1) in zip(self.points, self.points[1:], strict=False):
            if t0 <= now < t1:
                users = u0 + (u1 - u0) * (now - t0) / (t1 - t0) if t1 > t0 else u1
                return max(1, round(users)), max(1.0, abs(u1 - u0) / max(1.0, t1 - t0) * 2)
        return None
