"""Realistic mode of the emulator: AWS as it behaves over time, not as moto answers at once.

Off by default (the quick demo and most tests want instant answers). Switched on by
``awsemu.py start --latency-scale F [--throttle] [--throttle-fraction P] [--lost-responses P]``
or the ``AWSEMU_LATENCY_SCALE``, ``AWSEMU_THROTTLE``, ``AWSEMU_THROTTLE_FRACTION`` and
``AWSEMU_LOST_RESPONSES`` variables. What each setting does:

- ``latency_scale``: real seconds per AWS second of every lifecycle (RDS ``creating``, NAT
  ``pending``, ALB ``provisioning``...): 1.0 is real time, 0.05 one twentieth, 0 instant.
  The figures are the typical ones of shared/aws-behaviour.md; each service module names its
  source. Eventual-consistency windows (IAM, Describe after create) scale the same way but
  never drop below ``CONSISTENCY_FLOOR`` real seconds, so they stay observable.
- ``throttle``: the EC2 API's token buckets per action, as the EC2 developer guide's "Request
  throttling" documents them; the other services answer ``Throttling`` (query APIs) or
  ``ThrottlingException`` (JSON APIs) past a rate of their own.
- ``throttle_fraction``: a random fraction of the requests throttled on top of the buckets.
- ``lost_responses``: a random fraction of the creates that take an idempotency token
  (``IDEMPOTENT_CREATES``) succeed but answer HTTP 500 ``InternalError``,
  as when the response is lost on its way: the SDK retries, and the emulator answers a retry
  that carries the same token with the first call's result, as AWS does ("Ensuring
  idempotency", EC2 API reference). A create without a token is not idempotent on AWS either:
  its retry makes a second resource, which is what the toolkit must avoid.

Timed transitions run from one scheduler (``later``), driven by a background thread and
before every request, so a client that polls sees a state change no later than it is due.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import os
import random
import threading
import time

CONSISTENCY_FLOOR = 2.0


@dataclasses.dataclass
class Settings:
    latency_scale: float = 0.0
    throttle: bool = False
    throttle_fraction: float = 0.0
    lost_responses: float = 0.0
    seed: int | None = None

    @classmethod
    def from_env(cls, environ=os.environ) -> Settings:
        return cls(
            latency_scale=float(environ.get("AWSEMU_LATENCY_SCALE") or 0),
            throttle=environ.get("AWSEMU_THROTTLE", "") in ("1", "true", "yes"),
            throttle_fraction=float(environ.get("AWSEMU_THROTTLE_FRACTION") or 0),
            lost_responses=float(environ.get("AWSEMU_LOST_RESPONSES") or 0),
            seed=int(environ["AWSEMU_SEED"]) if environ.get("AWSEMU_SEED") else None,
        )

    def validate(self) -> None:
        problems = []
        if self.latency_scale < 0:
            problems.append(f"latency scale must be 0 (instant) or more, got {self.latency_scale}")
        for name in ("throttle_fraction", "lost_responses"):
            value = getattr(self, name)
            if not 0 <= value < 1:
                problems.append(f"{name.replace('_', ' ')} must be a fraction in [0, 1), got {value}")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def realistic(self) -> bool:
        return self.latency_scale > 0


SETTINGS = Settings()
# One generator per fault, so that with a seed the k-th idempotent create meets the same fate
# however many requests the throttle drew for meanwhile: runs are reproducible.
RANDOM = random.Random()  # noqa: S311 - fault injection, not cryptography
RANDOM_LOST = random.Random()  # noqa: S311


def configure(settings: Settings) -> None:
    settings.validate()
    global SETTINGS
    SETTINGS = settings
    RANDOM.seed(None if settings.seed is None else f"{settings.seed}/throttle")
    RANDOM_LOST.seed(None if settings.seed is None else f"{settings.seed}/lost")


def real_seconds(aws_seconds: float) -> float:
    """Real seconds an AWS duration takes at the current scale."""
    return aws_seconds * SETTINGS.latency_scale


def consistency_seconds(aws_seconds: float) -> float:
    """Real seconds of an eventual-consistency window (0 when realistic mode is off)."""
    if not SETTINGS.realistic:
        return 0.0
    return max(aws_seconds * SETTINGS.latency_scale, min(aws_seconds, CONSISTENCY_FLOOR))


# --------------------------------------------------------------------------- scheduler
_LOCK = threading.RLock()
_QUEUE: list[tuple[float, int, object]] = []
_SEQUENCE = itertools.count()
_WAKE = threading.Event()


def later(aws_seconds: float, action) -> None:
    """Run ``action()`` once ``aws_seconds`` of AWS time have passed (at once when instant)."""
    if not SETTINGS.realistic:
        action()
        return
    with _LOCK:
        heapq.heappush(_QUEUE, (time.monotonic() + real_seconds(aws_seconds), next(_SEQUENCE), action))
    _WAKE.set()


def run_due() -> None:
    """Run every transition that is due, oldest first."""
    while True:
        with _LOCK:
            if not _QUEUE or _QUEUE[0][0] > time.monotonic():
                return
            _, _, action = heapq.heappop(_QUEUE)
            try:
                action()
            except Exception:  # noqa: BLE001 - a transition of a resource reset meanwhile
                import logging

                logging.getLogger("awsemu.realism").exception("transition failed")


def pending() -> int:
    with _LOCK:
        return len(_QUEUE)


def clear() -> None:
    """Forget every scheduled transition (moto's reset forgets the resources)."""
    with _LOCK:
        _QUEUE.clear()


def _loop() -> None:
    while True:
        with _LOCK:
            delay = (_QUEUE[0][0] - time.monotonic()) if _QUEUE else 1.0
        _WAKE.wait(timeout=max(0.01, min(delay, 1.0)))
        _WAKE.clear()
        run_due()


def start_scheduler() -> None:
    threading.Thread(target=_loop, name="awsemu-realism", daemon=True).start()


# --------------------------------------------------------------------------- visibility
class Visibility:
    """Resources that exist but that some readers do not see yet (eventual consistency)."""

    def __init__(self):
        self._until: dict[str, float] = {}

    def hide(self, resource_id: str, aws_seconds: float) -> None:
        seconds = consistency_seconds(aws_seconds)
        if seconds > 0:
            self._until[resource_id] = time.monotonic() + seconds

    def hidden(self, resource_id: str) -> bool:
        until = self._until.get(resource_id)
        if until is None:
            return False
        if until <= time.monotonic():
            self._until.pop(resource_id, None)
            return False
        return True

    def clear(self) -> None:
        self._until.clear()


# --------------------------------------------------------------------------- throttling
class TokenBucket:
    """A bucket of ``size`` tokens refilled at ``rate`` a second; a request takes one token."""

    def __init__(self, size: int, rate: float):
        self.size, self.rate = size, rate
        self.tokens = float(size)
        self.stamp = time.monotonic()

    def take(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        self.tokens = min(self.size, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


# EC2 "Request throttling" (docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html),
# request token buckets per account, Region and action: non-mutating (Describe*) 100 tokens,
# refill 20/s; unfiltered and unpaginated non-mutating 50, 10/s; mutating 50, 5/s;
# resource-intensive (RunInstances, TerminateInstances...) 50, 5/s... The categories as
# "bucket size, refill rate".
EC2_BUCKETS = {
    "non-mutating": (100, 20.0),
    "mutating": (50, 5.0),
    "resource-intensive": (50, 5.0),
}
EC2_RESOURCE_INTENSIVE = {"RunInstances", "TerminateInstances", "StartInstances", "StopInstances",
                          "CreateImage", "CopyImage", "CreateSnapshot", "CreateVolume"}
# The other services document their throttling as per-account, per-second request quotas that
# differ by action and are not published as buckets (e.g. RDS User Guide, "Quotas"; ELB "Quotas
# for your Application Load Balancers" lists no API rate). The emulator gives each of their
# actions one stand-in bucket of this size and refill rate: an assumption, not an AWS figure.
OTHER_BUCKET = (40, 10.0)


class Throttle:
    def __init__(self):
        self.buckets: dict[str, TokenBucket] = {}
        self.lock = threading.Lock()
        self.throttled = 0

    @staticmethod
    def ec2_category(action: str) -> str:
        if action in EC2_RESOURCE_INTENSIVE:
            return "resource-intensive"
        if action.startswith(("Describe", "Get", "List")):
            return "non-mutating"
        return "mutating"

    def refuse(self, service: str, action: str) -> bool:
        """True when this request is throttled."""
        if not SETTINGS.throttle and SETTINGS.throttle_fraction <= 0:
            return False
        if SETTINGS.throttle_fraction > 0 and RANDOM.random() < SETTINGS.throttle_fraction:
            self.throttled += 1
            return True
        if not SETTINGS.throttle:
            return False
        size, rate = EC2_BUCKETS[self.ec2_category(action)] if service == "ec2" else OTHER_BUCKET
        key = f"{service}:{action}"
        with self.lock:
            bucket = self.buckets.setdefault(key, TokenBucket(size, rate))
            allowed = bucket.take()
        if not allowed:
            self.throttled += 1
        return not allowed


# Services of the REST protocol with JSON bodies (no X-Amz-Target header) that the toolkit calls:
# their errors are JSON too (AWS Backup API reference, "Common Errors": ThrottlingException, 400).
REST_JSON_SERVICES = {"backup"}


def throttling_answer(service: str, json_protocol: bool) -> tuple[int, str, bytes]:
    """The status, content type and body AWS answers when it throttles a request."""
    if service == "ec2":
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error>"
                "<Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message>"
                "</Error></Errors><RequestID>emulated-throttle</RequestID></Response>")
        return 503, "text/xml", body.encode()
    if json_protocol:
        body = '{"__type": "ThrottlingException", "message": "Rate exceeded"}'
        return 400, "application/x-amz-json-1.1", body.encode()
    body = ("<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
            "<Message>Rate exceeded</Message></Error><RequestId>emulated-throttle</RequestId></ErrorResponse>")
    return 400, "text/xml", body.encode()


# --------------------------------------------------------------------------- lost responses
# Creates whose answer the fault may lose, and the request parameter that carries their
# idempotency token (EC2 API reference, "Ensuring idempotency in Amazon EC2 API requests": "If
# you repeat the request with the same client token ... the same response is returned").
# botocore fills the token in by itself where the API model marks the parameter an
# idempotencyToken (RunInstances, CreateNatGateway, CreateLaunchTemplate[Version],
# CreateRouteTable) and its retries resend it; CreateVpcEndpoint's and CreateFlowLogs' are not
# marked, so their callers must send one. A request sent without a token is lost all the same:
# its retry makes a duplicate (or fails as "already exists"), as it would on AWS.
IDEMPOTENT_CREATES = {
    "ec2:RunInstances": "ClientToken",
    "ec2:CreateNatGateway": "ClientToken",
    "ec2:CreateLaunchTemplate": "ClientToken",
    "ec2:CreateLaunchTemplateVersion": "ClientToken",
    "ec2:CreateVpcEndpoint": "ClientToken",
    "ec2:CreateFlowLogs": "ClientToken",
    "ec2:CreateRouteTable": "ClientToken",
}


class LostResponses:
    """Answers kept by idempotency token, and the fault that loses a first answer."""

    def __init__(self):
        self.answers: dict[tuple[str, str], tuple[str, list, bytes]] = {}
        self.lock = threading.Lock()
        self.lost = 0
        self.replayed = 0

    def token(self, key: str, params: dict) -> str | None:
        name = IDEMPOTENT_CREATES.get(key)
        return params.get(name) if name else None

    def replay(self, key: str, token: str):
        with self.lock:
            answer = self.answers.get((key, token))
            if answer:
                self.replayed += 1
            return answer

    def keep(self, key: str, token: str, answer) -> None:
        with self.lock:
            self.answers[(key, token)] = answer

    def lose(self) -> bool:
        if SETTINGS.lost_responses > 0 and RANDOM_LOST.random() < SETTINGS.lost_responses:
            self.lost += 1
            return True
        return False

    def clear(self) -> None:
        with self.lock:
            self.answers.clear()


THROTTLE = Throttle()
LOST = LostResponses()
