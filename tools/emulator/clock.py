"""The emulator's clock: AWS's time, which tests may run faster than real time.

``--clock-rate R`` makes R emulated seconds pass in each real second, from the moment the
emulator starts (at R = 1, the default, emulated time is real time). One setting, applied
wherever AWS measures time for the toolkit:

- CloudWatch: metric timestamps and periods, alarm evaluation (services/cloudwatch.py, metrics.py);
- EC2 Auto Scaling: scheduled actions' start times, instance warm-up and cooldowns, and instance
  refresh warm-ups and checkpoint delays (services/autoscaling.py).

What stays in real time: the containers themselves (an instance boots as fast as its container
does), the data plane's timeouts and deregistration delays (a request takes what it takes), and
the realistic mode's latencies (``--latency-scale``, realism.py). ``GET /_emulator/clock`` says
the emulated time and the rate, so that a client can schedule in emulated time; ``POST`` with
``{"rate": R}`` changes the rate from then on (a test speeds up only the part that waits on
AWS's minutes), the emulated time going on from where it is.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

_lock = threading.Lock()
_rate = 1.0
_origin_wall = time.time()
_origin_mono = time.monotonic()


def configure(rate: float) -> None:
    """Start the emulated time at the real time now, running ``rate`` times as fast."""
    global _rate, _origin_wall, _origin_mono
    if not rate > 0:
        raise ValueError(f"--clock-rate must be above 0 (got {rate})")
    with _lock:
        _rate, _origin_wall, _origin_mono = float(rate), time.time(), time.monotonic()


def set_rate(rate: float) -> None:
    """Run at ``rate`` from now on, the emulated time going on from where it is."""
    global _rate, _origin_wall, _origin_mono
    if not rate > 0:
        raise ValueError(f"rate must be above 0 (got {rate})")
    current = timestamp()
    with _lock:
        _rate, _origin_wall, _origin_mono = float(rate), current, time.monotonic()


def rate() -> float:
    return _rate


def timestamp() -> float:
    """Emulated seconds since the epoch."""
    with _lock:
        return _origin_wall + (time.monotonic() - _origin_mono) * _rate


def now() -> dt.datetime:
    """Emulated time, UTC, to the microsecond."""
    return dt.datetime.fromtimestamp(timestamp(), dt.UTC)


def real(seconds: float) -> float:
    """Real seconds in ``seconds`` of emulated time."""
    return seconds / _rate


def describe() -> dict:
    return {"now": now().strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "epoch": timestamp(), "rate": _rate}
