# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Minute-by-minute simulation of the web Auto Scaling group under a traffic profile (pure Python).

The model, after the EC2 Auto Scaling user guide ("Target tracking scaling policies", "Set the
default instance warmup"):

- An instance launched at minute t serves from t + ready_minutes (boot plus warm-up) and is
  billed from t. Capacity = serving instances x instance_rps (requests/s one instance serves at
  the target latency); demand above it is at risk.
- The tracked metric is the serving instances' average utilisation, demand / capacity, capped at
  1 (a CPU cannot pass 100 %): a saturated fleet can only grow by 1/target per step, as on AWS.
- Scale out: once the metric is above the target for `high_minutes` consecutive minutes (target
  tracking's high alarm: 3 datapoints of one minute), the desired capacity becomes
  ceil(serving x metric / target) - proportional - unless the instances still warming up already
  make up for it (it only adds the difference).
- Scale in, conservatively: once the metric is below 90 % of the target for `low_minutes`
  consecutive minutes (the low alarm: 15 datapoints), the group drops to what the metric asks
  for, but by at most 10 % of its size (at least one instance) a step; never while instances
  are warming up.
- Scheduled actions set the minimum and maximum (and lift the desired capacity to the new
  minimum) at their minute.

Everything is a function of the inputs: the same profile gives the same result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Spike:
    """A promotion's traffic: from `start` (minute), demand rises to `multiplier` x the baseline
    over `ramp` minutes, holds `hold` minutes, falls back over `decay` minutes."""

    start: int
    multiplier: float
    ramp: int = 0
    hold: int = 60
    decay: int = 0

    def factor(self, minute: int) -> float:
        t = minute - self.start
        if t < 0:
            return 1.0
        if t < self.ramp:
            return 1.0 + (self.multiplier - 1.0) * (t + 1) / self.ramp
        t -= self.ramp
        if t < self.hold:
            return self.multiplier
        t -= self.hold
        if t < self.decay:
            return self.multiplier - (self.multiplier - 1.0) * (t + 1) / self.decay
        return 1.0


@dataclass(frozen=True)
class Profile:
    """Requests per second minute by minute: a baseline day (24 hourly values, repeated) times the spikes."""

    hourly_rps: tuple[float, ...]
    days: int = 1
    spikes: tuple[Spike, ...] = ()

    def __post_init__(self):
        if len(self.hourly_rps) != 24 or min(self.hourly_rps) < 0:
            raise ValueError("the baseline day needs 24 hourly values, none negative")
        if self.days < 1:
            raise ValueError("days must be at least 1")

    @property
    def minutes(self) -> int:
        return self.days * 24 * 60

    def demand(self, minute: int) -> float:
        base = self.hourly_rps[(minute // 60) % 24]
        factor = max((spike.factor(minute) for spike in self.spikes), default=1.0)
        return base * factor


@dataclass(frozen=True)
class ScheduledAction:
    minute: int
    min_size: int
    max_size: int


@dataclass(frozen=True)
class Settings:
    instance_rps: float
    ready_minutes: int
    min_size: int
    max_size: int
    target: float = 0.5
    hourly_price: float = 0.0
    target_tracking: bool = True
    schedule: tuple[ScheduledAction, ...] = ()
    high_minutes: int = 3
    low_minutes: int = 15

    def __post_init__(self):
        if self.instance_rps <= 0:
            raise ValueError("instance_rps must be above 0")
        if not 0 < self.target <= 1:
            raise ValueError("target must be in (0, 1]: a utilisation")
        if self.ready_minutes < 0:
            raise ValueError("ready_minutes must be 0 or more")
        if not 0 <= self.min_size <= self.max_size:
            raise ValueError(f"min_size ({self.min_size}) must be 0 or more and not above max_size ({self.max_size})")
        for action in self.schedule:
            if not 0 <= action.min_size <= action.max_size:
                raise ValueError(f"the scheduled action at minute {action.minute} has min above max")


@dataclass
class Result:
    demand: list[float] = field(default_factory=list)
    capacity: list[float] = field(default_factory=list)
    instances: list[int] = field(default_factory=list)
    serving: list[int] = field(default_factory=list)
    deficit: list[float] = field(default_factory=list)
    hourly_price: float = 0.0

    def summary(self) -> dict:
        minutes = len(self.demand)
        instance_hours = sum(self.instances) / 60
        served = sum(d - x for d, x in zip(self.demand, self.deficit, strict=True))
        offered = sum(self.capacity)
        return {
            "minutes": minutes,
            "minutes_short": sum(1 for x in self.deficit if x > 1e-9),
            "requests": round(sum(self.demand) * 60),
            "requests_at_risk": round(sum(self.deficit) * 60),
            "peak_demand_rps": round(max(self.demand, default=0), 1),
            "peak_instances": max(self.instances, default=0),
            "min_instances": min(self.instances, default=0),
            "utilisation": round(served / offered, 4) if offered else 0.0,
            "instance_hours": round(instance_hours, 2),
            "ec2_cost": round(instance_hours * self.hourly_price, 2),
        }


def needed(demand: float, settings: Settings) -> int:
    """Instances that keep the utilisation at the target."""
    return math.ceil(demand / (settings.instance_rps * settings.target) - 1e-9)


def simulate(profile: Profile, settings: Settings) -> Result:
    """The group minute by minute; it starts settled for the first minute's demand."""
    schedule = {action.minute: action for action in settings.schedule}
    min_size, max_size = settings.min_size, settings.max_size
    start = min(max_size, max(min_size, needed(profile.demand(0), settings) if settings.target_tracking else min_size))
    launched = [-settings.ready_minutes] * start  # launch minutes: the first ones serve at once
    high = low = 0
    result = Result(hourly_price=settings.hourly_price)
    for minute in range(profile.minutes):
        action = schedule.get(minute)
        if action:
            min_size, max_size = action.min_size, action.max_size
            desired = min(max_size, max(len(launched), min_size))
            launched = _resize(launched, desired, minute)
        serving = sum(1 for t in launched if minute - t >= settings.ready_minutes)
        demand = profile.demand(minute)
        capacity = serving * settings.instance_rps
        result.demand.append(demand)
        result.capacity.append(capacity)
        result.instances.append(len(launched))
        result.serving.append(serving)
        result.deficit.append(max(0.0, demand - capacity))
        if not settings.target_tracking:
            continue
        metric = min(1.0, demand / capacity) if capacity else 1.0
        high = high + 1 if metric > settings.target else 0
        low = low + 1 if metric < 0.9 * settings.target else 0
        warming = len(launched) - serving
        if high >= settings.high_minutes:
            wanted = math.ceil(serving * metric / settings.target - 1e-9) if serving else max(1, min_size)
            desired = min(max_size, max(len(launched), wanted))
            if desired > len(launched):
                launched = _resize(launched, desired, minute + 1)
                high = 0
        elif low >= settings.low_minutes and not warming:
            wanted = max(min_size, math.ceil(serving * metric / settings.target - 1e-9))
            step = max(1, math.floor(0.1 * len(launched)))
            desired = max(wanted, len(launched) - step)
            if desired < len(launched):
                launched = _resize(launched, desired, minute + 1)
                low = 0
    return result


def _resize(launched: list[int], desired: int, minute: int) -> list[int]:
    """Launch at `minute`, or terminate the newest instances first (still warming, least useful)."""
    if desired > len(launched):
        return launched + [minute] * (desired - len(launched))
    return sorted(launched)[:desired]


def fixed_fleet(profile: Profile, settings: Settings) -> Settings:
    """The fleet sized for the peak all year: serves the highest demand at 100 % utilisation."""
    size = math.ceil(max(profile.demand(m) for m in range(profile.minutes)) / settings.instance_rps - 1e-9)
    return Settings(instance_rps=settings.instance_rps, ready_minutes=settings.ready_minutes, min_size=size,
                    max_size=size, target=settings.target, hourly_price=settings.hourly_price, target_tracking=False)
