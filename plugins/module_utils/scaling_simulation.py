# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Minute-by-minute simulation of the web Auto Scaling group under a traffic profile (pure Python).

The model, after the EC2 Auto Scaling user guide ("Target tracking scaling policies", "Set the
default instance warmup"):

- An instance launched at minute t serves from t + ready_minutes (boot plus warm-up) and is
  billed from t. Capacity = serving instances x instance_rps (requests/s one instance serves at
  the target latency); demand above it is at risk.
- Two target tracking policies, as the compute role makes them: the serving instances' average
  CPU utilisation, modelled as demand / capacity capped at 1 (a CPU cannot pass 100 %: a
  saturated fleet can only grow by 1/target a step, as on AWS), and the ALB's requests per
  target per minute (demand x 60 / serving, not capped). Either can be off.
- Scale out: once a policy's metric is above its target for `high_minutes` consecutive minutes
  (target tracking's high alarm: 3 datapoints of one minute), the desired capacity becomes
  ceil(serving x metric / target) - proportional - for the policy asking most, unless the
  instances still warming up already make up for it (it only adds the difference).
- Scale in, conservatively: only when every policy's metric has been below 90 % of its target
  for `low_minutes` consecutive minutes (the low alarms: 15 datapoints; with several policies
  the group scales in only when all of them agree), to what the most demanding policy asks
  for, by at most 10 % of the group (at least one instance) a step; never while instances are
  warming up.
- Scheduled actions set the minimum and maximum (and lift the desired capacity to the new
  minimum) at their minute.

Everything is a function of the inputs: the same profile gives the same result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace


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
    target: float | None = 0.5
    hourly_price: float = 0.0
    target_tracking: bool = True
    schedule: tuple[ScheduledAction, ...] = ()
    high_minutes: int = 3
    low_minutes: int = 15
    requests_per_target: float | None = None  # ALB requests per target per minute; None: no such policy

    def __post_init__(self):
        if self.instance_rps <= 0:
            raise ValueError("instance_rps must be above 0")
        if self.target is not None and not 0 < self.target <= 1:
            raise ValueError("target must be in (0, 1]: a utilisation")
        if self.requests_per_target is not None and self.requests_per_target <= 0:
            raise ValueError("requests_per_target must be above 0")
        if self.target_tracking and self.target is None and self.requests_per_target is None:
            raise ValueError("target tracking needs a CPU target or a requests-per-target target")
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
            "worst_minute_unserved": round(max((x / d for d, x in zip(self.demand, self.deficit, strict=True) if d > 0),
                                               default=0.0), 4),
            "peak_demand_rps": round(max(self.demand, default=0), 1),
            "peak_instances": max(self.instances, default=0),
            "min_instances": min(self.instances, default=0),
            "utilisation": round(served / offered, 4) if offered else 0.0,
            "instance_hours": round(instance_hours, 2),
            "ec2_cost": round(instance_hours * self.hourly_price, 2),
        }


def needed(demand: float, settings: Settings) -> int:
    """Instances that keep every policy's metric at or under its target."""
    counts = [0]
    if settings.target is not None:
        counts.append(math.ceil(demand / (settings.instance_rps * settings.target) - 1e-9))
    if settings.requests_per_target is not None:
        counts.append(math.ceil(demand * 60 / settings.requests_per_target - 1e-9))
    return max(counts)


def _metrics(demand: float, capacity: float, serving: int, settings: Settings) -> list[tuple[float, float]]:
    """(metric, target) of each policy."""
    found = []
    if settings.target is not None:
        found.append((min(1.0, demand / capacity) if capacity else 1.0, settings.target))
    if settings.requests_per_target is not None:
        found.append((demand * 60 / serving if serving else math.inf, settings.requests_per_target))
    return found


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
        metrics = _metrics(demand, capacity, serving, settings)
        high = high + 1 if any(metric > target for metric, target in metrics) else 0
        low = low + 1 if all(metric < 0.9 * target for metric, target in metrics) else 0
        warming = len(launched) - serving
        if high >= settings.high_minutes:
            wanted = max(math.ceil(serving * metric / target - 1e-9) for metric, target in metrics) if serving \
                else max(1, min_size)
            desired = min(max_size, max(len(launched), wanted))
            if desired > len(launched):
                launched = _resize(launched, desired, minute + 1)
                high = 0
        elif low >= settings.low_minutes and not warming:
            wanted = max(min_size, max(math.ceil(serving * metric / target - 1e-9) for metric, target in metrics))
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
    return replace(settings, min_size=size, max_size=size, target_tracking=False, schedule=())


# --------------------------------------------------------------------------- scenarios
STRATEGIES = ("peak-sized fleet", "target tracking", "target tracking + promotion schedule")
HOURS_PER_MONTH = 730  # AWS pricing's month


def profile_from(traffic: dict, spike: dict | None = None) -> Profile:
    """A profile from the inventory's traffic_profile; with `spike`, a promotion on day `spike['day']`
    (1-based) from `spike['start_hour']`, `multiplier` x the baseline after a linear ramp."""
    days = 1
    spikes = ()
    if spike:
        days = int(spike.get("days", 3))
        day = int(spike.get("day", 2))
        if not 1 <= day <= days:
            raise ValueError(f"spike.day must be 1-{days} (got {day})")
        start = (day - 1) * 1440 + round(float(spike.get("start_hour", 9)) * 60)
        spikes = (Spike(start=start, multiplier=float(spike["multiplier"]), ramp=int(spike.get("ramp_minutes", 15)),
                        hold=int(spike.get("hold_minutes", 240)), decay=int(spike.get("decay_minutes", 60))),)
    return Profile(hourly_rps=tuple(float(v) for v in traffic["hourly_rps"]), days=days, spikes=spikes)


def group_settings(traffic: dict, group: dict) -> Settings:
    """Settings from the traffic profile (instance_rps, ready_minutes) and the group's scaling
    settings: min_size, max_size, target_cpu (percent or None), requests_per_target (or None), hourly_price."""
    cpu = group.get("target_cpu")
    rpt = group.get("requests_per_target")
    return Settings(instance_rps=float(traffic["instance_rps"]), ready_minutes=int(traffic["ready_minutes"]),
                    min_size=int(group["min_size"]), max_size=int(group["max_size"]),
                    target=None if cpu is None else float(cpu) / 100,
                    requests_per_target=None if rpt is None else float(rpt),
                    hourly_price=float(group.get("hourly_price", 0.0)))


def strategies(profile: Profile, settings: Settings, promotion: dict | None) -> dict[str, Settings]:
    """The three strategies compared: sized for the peak all year, target tracking alone, and target
    tracking plus the promotion's scheduled actions (floor min_size and ceiling max_size from
    scale_out_minutes before the spike starts to the end of its decay, then the group's own sizes)."""
    found = {STRATEGIES[0]: fixed_fleet(profile, settings), STRATEGIES[1]: settings}
    if promotion and profile.spikes:
        spike = profile.spikes[0]
        out_at = max(0, spike.start - int(promotion.get("scale_out_minutes", 30)))
        back_at = spike.start + spike.ramp + spike.hold + spike.decay
        schedule = (ScheduledAction(out_at, int(promotion["min_size"]), int(promotion["max_size"])),
                    ScheduledAction(back_at, settings.min_size, settings.max_size))
        found[STRATEGIES[2]] = replace(settings, schedule=schedule)
    return found


def compare(profile: Profile, cases: dict[str, Settings]) -> dict[str, Result]:
    return {name: simulate(profile, case) for name, case in cases.items()}


def month_instance_hours(traffic: dict, settings: Settings) -> dict:
    """A quiet month (the baseline day, 30 days) under target tracking, in instance-hours per 730-hour month."""
    result = simulate(Profile(tuple(float(v) for v in traffic["hourly_rps"]), days=30), settings)
    hours = sum(result.instances) / 60 * HOURS_PER_MONTH / (30 * 24)
    return {"instance_hours": round(hours, 1), "average_instances": round(hours / HOURS_PER_MONTH, 2),
            "peak_instances": max(result.instances), "requests_at_risk": round(sum(result.deficit) * 60)}


def check_traffic(traffic, variable: str = "traffic_profile") -> list[str]:
    """Every rule the traffic profile breaks, each naming the variable."""
    if not isinstance(traffic, dict):
        return [f"{variable} must be a mapping (got {type(traffic).__name__})"]
    errors = []
    hourly = traffic.get("hourly_rps")
    try:
        values = [float(v) for v in hourly]
        if len(values) != 24 or min(values) < 0:
            raise ValueError
    except (TypeError, ValueError):
        errors.append(f"{variable}.hourly_rps must be 24 numbers of 0 or more, one an hour from 00:00 UTC (got {hourly!r})")
    for key, low in (("instance_rps", 1e-9), ("ready_minutes", 0)):
        try:
            if float(traffic.get(key)) < low:
                raise ValueError
        except (TypeError, ValueError):
            errors.append(f"{variable}.{key} must be a number {'above 0' if low else '0 or more'} (got {traffic.get(key)!r})")
    spike = traffic.get("promotion_spike")
    if spike is not None:
        if not isinstance(spike, dict):
            errors.append(f"{variable}.promotion_spike must be a mapping")
        else:
            try:
                if float(spike.get("multiplier", 0)) < 1:
                    raise ValueError
            except (TypeError, ValueError):
                errors.append(f"{variable}.promotion_spike.multiplier must be 1 or more (got {spike.get('multiplier')!r})")
            for key in ("ramp_minutes", "hold_minutes", "decay_minutes"):
                if key in spike and (not str(spike[key]).isdigit()):
                    errors.append(f"{variable}.promotion_spike.{key} must be a whole number of minutes, 0 or more")
            days, day = spike.get("days", 3), spike.get("day", 2)
            if not (str(days).isdigit() and str(day).isdigit() and 1 <= int(day) <= int(days) <= 31):
                errors.append(f"{variable}.promotion_spike.day ({day}) must lie within days ({days}), at most 31")
            try:
                if not 0 <= float(spike.get("start_hour", 9)) < 24:
                    raise ValueError
            except (TypeError, ValueError):
                errors.append(f"{variable}.promotion_spike.start_hour must be 0-23.99 (got {spike.get('start_hour')!r})")
    return errors
