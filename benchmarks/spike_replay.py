"""Replay a promotion spike against the live local shop and measure what the group does with it.

Usage: .venv/bin/python benchmarks/spike_replay.py [--clock-rate 10] [--instance-cpus 0.05]
           [--hold 30] [--out docs/reports/spike] [--strategies tt,tt+schedule]

On a fleet emulator of its own: bakes the web image, builds the stack with site.yml (stack
"spike-local": min 1, max 8, the compute role's default policies: CPU at 50 %, 1000 requests
per target a minute), rolls the image out and releases the static files; then bounds every
instance's container to its type's vCPUs x --instance-cpus CPUs of this machine and runs the
emulator's clock at --clock-rate. Then:

1. measures what one instance serves: the group held at one instance, Locust's shoppers asking
   as fast as answers come for a few emulated minutes, CPUUtilization and RequestCount read back
   from the emulator's CloudWatch: requests/s at 100 % CPU;
2. replays the production profile's promotion spike (traffic_profile.promotion_spike: 10x)
   scaled to that - a baseline of a quarter of an instance, then the ramp, hold and decay, in
   emulated minutes - with Locust through the CloudFront stand-in, once per strategy: target
   tracking alone, then target tracking plus the promotion's scheduled actions (as
   plugins/module_utils/promotions.py plans them, at the emulated time); the group starts each
   run at its minimum;
3. samples the group every second and reports, per strategy: requests, failed requests (5xx,
   timeouts), answers slower than 1 s, p95 and p99, instances over time and instance-minutes
   (the cost), as a table (Markdown, JSON) and a PNG chart in --out;
4. runs the scaling simulation (plugins/module_utils/scaling_simulation.py) on the same profile
   and prints predicted vs measured side by side: first with the inputs production assumes
   (traffic_profile.ready_minutes) and the probe's capacity, then calibrated from the replay
   (the time from a scale-out to its instances serving, the capacity the saturated instances
   showed).

Load goes only to 127.0.0.1, bounded in users and time (the locustfile refuses another host).
Needs podman, haproxy, nginx (scripts/containers.sh) and locust (requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import datetime as dt
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from helpers import VENV_BIN, Emulator, free_port, free_port_range, podman, run_playbook  # noqa: E402

PROJECT = "spike"
STACK = f"{PROJECT}-local"
REPOSITORY = "localhost/shop-web-spike"
ENV = {"SHOP_STACK": STACK}
MIN_SIZE, MAX_SIZE = 1, 8
CPU_TARGET = 0.5  # compute_target_cpu's default
REQUESTS_PER_TARGET = 1000  # compute_target_requests_per_target's default, per minute
# The spike's shape, emulated minutes; its height is the production profile's (multiplier).
PHASES = {"baseline": 10, "ramp": 10, "hold": 30, "decay": 20, "tail": 20}
LEAD = 8  # the promotion's scale_out_minutes here: within the baseline, above the time to serve
SLOW_MS = 1000
# CPU each page spends rendering (the demo shop's app.page_cpu_ms): a storefront's templates and
# framework, where the demo's own page costs under a millisecond and this machine's load generator
# could not send enough requests to load even one bounded instance.
PAGE_CPU_MS = 8


def production_profile() -> dict:
    return yaml.safe_load((ROOT / "inventories/production/group_vars/all/traffic.yml").read_text())["traffic_profile"]


# --------------------------------------------------------------------------- the stack
def extra(**more) -> dict:
    return {"stack_project": PROJECT, "compute_min_size": MIN_SIZE, "compute_desired_capacity": MIN_SIZE,
            "compute_max_size": MAX_SIZE, "web_image_container_repository": REPOSITORY,
            "compute_app_settings": {"static-base-url": "/static", "page-cpu-ms": str(PAGE_CPU_MS)}, **more}


def build(emulator: Emulator) -> None:
    """The stack and the bake at once (they need nothing of each other), the rollout, the release."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda playbook: run_playbook(emulator, playbook, extra=extra(), env=ENV, timeout=1800),
                             ("site.yml", "playbooks/bake_ami.yml")))
    for run in runs:
        if run.rc != 0:
            raise SystemExit(run.output[-4000:])
    for playbook, more in (("playbooks/rolling_update.yml", {"rollout_max_healthy_percentage": 200}),
                           ("playbooks/release_static.yml", {})):
        run = run_playbook(emulator, playbook, extra=extra(**more), env=ENV, timeout=1200)
        if run.rc != 0:
            raise SystemExit(run.output[-4000:])


@dataclass(frozen=True)
class Shop:
    """The stack under load: its web group, target group and the distribution in front."""

    emulator: Emulator
    stack: str

    @property
    def group_name(self) -> str:
        return f"{self.stack}-web"

    def group(self) -> dict:
        return self.emulator.client("autoscaling").describe_auto_scaling_groups(
            AutoScalingGroupNames=[self.group_name])["AutoScalingGroups"][0]

    def healthy(self) -> int:
        elb = self.emulator.client("elbv2")
        arn = elb.describe_target_groups(Names=[self.group_name])["TargetGroups"][0]["TargetGroupArn"]
        states = elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
        return sum(1 for d in states if d["TargetHealth"]["State"] == "healthy")

    def url(self) -> str:
        """The distribution's HTTPS address on the CloudFront stand-in."""
        listing = self.emulator.dataplane()
        domain = next(d["DomainName"] for d in self.emulator.client("cloudfront").list_distributions()[
            "DistributionList"]["Items"] if d["Comment"].startswith(self.stack))
        return listing["distributions"][domain]["https"]

    def load_balancer(self) -> str:
        """The ALB's CloudWatch dimension value (app/<name>/<id>)."""
        arn = self.emulator.client("elbv2").describe_load_balancers(Names=[self.stack])["LoadBalancers"][0]
        return arn["LoadBalancerArn"].split(":loadbalancer/")[1]

    def wait_size(self, size: int, timeout: float = 600) -> None:
        """Until the group wants ``size`` instances and exactly that many serve."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.group()
            serving = sum(1 for i in found["Instances"] if i["LifecycleState"] == "InService")
            if found["DesiredCapacity"] == serving == size and self.healthy() == size:
                return
            time.sleep(2)
        raise RuntimeError(f"{self.group_name} did not settle at {size} healthy instances within {timeout:.0f} s")


# --------------------------------------------------------------------------- the load
def profile(baseline: float, phases: dict, multiplier: float, rate: float) -> list[list[float]]:
    """Users over real seconds: baseline, ramp to multiplier x, hold, decay, tail (emulated minutes)."""
    minute = 60 / rate
    points, t = [[0.0, baseline]], 0.0
    for phase, users in (("baseline", baseline), ("ramp", baseline * multiplier), ("hold", baseline * multiplier),
                         ("decay", baseline), ("tail", baseline)):
        t += phases[phase] * minute
        points.append([round(t, 2), round(users, 2)])
    return points


def locust(url: str, points: list[list[float]], prefix: Path, pace: float = 1.0) -> None:
    """Locust headless along the profile ([seconds, users]); its CSVs under ``prefix``."""
    path = prefix.with_suffix(".profile.json")
    path.write_text(json.dumps(points))
    seconds = math.ceil(points[-1][0]) + 30
    command = [str(VENV_BIN / "locust"), "-f", str(ROOT / "benchmarks/spike_locustfile.py"), "--headless",
               "--host", url, "--csv", str(prefix), "--csv-full-history", "--only-summary",
               "--run-time", f"{seconds}s", "--stop-timeout", "30", "--loglevel", "WARNING"]
    done = subprocess.run(command, check=False, timeout=seconds + 120, capture_output=True, text=True,  # noqa: S603
                          env={**os.environ, "SPIKE_PROFILE": str(path), "SPIKE_COUNTS": f"{prefix}_counts.json",
                               "SPIKE_PACE": str(pace), "SPIKE_SLOW_MS": str(SLOW_MS)})
    # Locust exits 1 when a request failed: a result, not an error of the run.
    if done.returncode not in (0, 1) or not Path(f"{prefix}_stats.csv").exists():
        raise RuntimeError(f"locust failed ({done.returncode}): {done.stderr[-3000:]}")


def totals(prefix: Path) -> dict:
    with open(f"{prefix}_stats.csv", newline="", encoding="utf-8") as handle:
        rows = {row["Name"]: row for row in csv.DictReader(handle)}
    row = rows["Aggregated"]
    failures: dict[str, int] = {}
    with open(f"{prefix}_failures.csv", newline="", encoding="utf-8") as handle:
        for failure in csv.DictReader(handle):
            failures[failure["Error"]] = failures.get(failure["Error"], 0) + int(failure["Occurrences"])
    slow = json.loads(Path(f"{prefix}_counts.json").read_text())["slow"]
    return {"requests": int(row["Request Count"]), "failed": int(row["Failure Count"]), "slow": slow,
            "pages": int(rows["page"]["Request Count"]) if "page" in rows else 0,
            "p50_ms": float(row["50%"]), "p95_ms": float(row["95%"]), "p99_ms": float(row["99%"]),
            "max_ms": float(row["Max Response Time"]), "failures": failures}


def history(prefix: Path) -> list[dict]:
    def number(text: str) -> float | None:
        return None if text in ("N/A", "") else float(text)

    with open(f"{prefix}_stats_history.csv", newline="", encoding="utf-8") as handle:
        return [{"t": int(r["Timestamp"]), "users": int(r["User Count"]), "rps": float(r["Requests/s"]),
                 "failures": float(r["Failures/s"]), "p95": number(r["95%"])}
                for r in csv.DictReader(handle) if r["Name"] == "Aggregated"]


class Sampler(threading.Thread):
    """The group each second: emulated time, desired capacity, billed instances (launched and not
    yet terminated), those in service, healthy targets."""

    def __init__(self, shop: Shop):
        super().__init__(daemon=True)
        self.shop, self.samples, self.stop = shop, [], threading.Event()

    def run(self) -> None:
        while not self.stop.wait(1.0):
            try:
                found = self.shop.group()
                states = [i["LifecycleState"] for i in found["Instances"]]
                self.samples.append({"real": time.time(), "emulated": self.shop.emulator.clock()["epoch"],
                                     "desired": found["DesiredCapacity"],
                                     "billed": sum(1 for s in states if not s.startswith("Terminated")),
                                     "in_service": states.count("InService"), "healthy": self.shop.healthy()})
            except Exception as error:  # noqa: BLE001 - a missed sample is not a failed benchmark
                print(f"sample missed: {error}", file=sys.stderr)


def replay(shop: Shop, points: list[list[float]], prefix: Path, strategy: str) -> dict:
    """Locust along ``points`` through the distribution while the group is sampled: the totals,
    p95/p99, the instances over time and the instance-minutes (billed, emulated time)."""
    sampler = Sampler(shop)
    sampler.start()
    try:
        locust(shop.url(), points, prefix)
    finally:
        sampler.stop.set()
        sampler.join()
    samples = sampler.samples
    if len(samples) < 2:
        raise RuntimeError("the group could not be sampled during the replay")
    minutes = sum(a["billed"] * (b["emulated"] - a["emulated"]) / 60 for a, b in zip(samples, samples[1:], strict=False))
    return {"strategy": strategy, **totals(prefix), "peak_instances": max(s["billed"] for s in samples),
            "instance_minutes": round(minutes, 1), "samples": samples, "history": history(prefix)}


def ready_minutes(samples: list[dict]) -> list[float]:
    """Emulated minutes from each rise of the desired capacity to that many targets healthy."""
    waits = []
    for index, (before, after) in enumerate(zip(samples, samples[1:], strict=False)):
        if after["desired"] > before["desired"]:
            done = next((s for s in samples[index + 1:] if s["healthy"] >= after["desired"]), None)
            if done:
                waits.append(round((done["emulated"] - after["emulated"]) / 60, 1))
    return waits


# --------------------------------------------------------------------------- the runs
def capacity(shop: Shop, work: Path, rate: float) -> dict:
    """Requests/s one instance serves at 100 % CPU: the group held at one instance (its maximum
    at 1 for the probe), shoppers asking as fast as answers come, CloudWatch's figures of the
    probe's whole minutes but the first."""
    autoscaling = shop.emulator.client("autoscaling")
    autoscaling.update_auto_scaling_group(AutoScalingGroupName=shop.group_name, MaxSize=1)
    try:
        start = shop.emulator.clock()["epoch"]
        locust(shop.url(), [[0, 6], [6 * 60 / rate, 6]], work / "capacity", pace=0)
        end = shop.emulator.clock()["epoch"]
    finally:
        autoscaling.update_auto_scaling_group(AutoScalingGroupName=shop.group_name, MaxSize=MAX_SIZE)
    window = {"StartTime": dt.datetime.fromtimestamp((start // 60 + 2) * 60, dt.UTC),
              "EndTime": dt.datetime.fromtimestamp(end // 60 * 60, dt.UTC), "Period": 60}
    cloudwatch = shop.emulator.client("cloudwatch")
    cpu = cloudwatch.get_metric_statistics(Namespace="AWS/EC2", MetricName="CPUUtilization", Statistics=["Average"],
                                           Dimensions=[{"Name": "AutoScalingGroupName", "Value": shop.group_name}],
                                           **window)["Datapoints"]
    requests = cloudwatch.get_metric_statistics(Namespace="AWS/ApplicationELB", MetricName="RequestCount",
                                                Statistics=["Sum"], Dimensions=[{"Name": "LoadBalancer",
                                                                                 "Value": shop.load_balancer()}],
                                                **window)["Datapoints"]
    if not cpu or not requests:
        raise RuntimeError(f"CloudWatch has no CPUUtilization or RequestCount for the probe ({window})")
    cpu_avg = sum(p["Average"] for p in cpu) / len(cpu)
    # An emulated minute's requests arrive in 60 / rate real seconds.
    rps = sum(p["Sum"] for p in requests) / len(requests) / 60 * rate
    return {"cpu_percent": round(cpu_avg, 1), "rps": round(rps, 2), "instance_rps": round(rps / (cpu_avg / 100), 2)}


def schedule(shop: Shop, spike_start: float, spike_end: float, floor: int) -> list[dict]:
    """The promotion's two scheduled actions, planned by the collection's own planner at emulated times."""
    from ansible_collections.shop.aws.plugins.module_utils import promotions  # noqa: PLC0415 - pure Python

    def moment(epoch: float) -> str:
        return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat()

    spike = {"name": "spike", "start": moment(spike_start), "end": moment(spike_end), "min_size": floor,
             "max_size": MAX_SIZE, "scale_out_minutes": LEAD}
    now = dt.datetime.fromtimestamp(shop.emulator.clock()["epoch"], dt.UTC)
    actions = promotions.plan([spike], MIN_SIZE, MAX_SIZE, now=now)
    autoscaling = shop.emulator.client("autoscaling")
    for action in actions:
        if action["past"]:
            raise RuntimeError(f"the benchmark planned {action['name']} in the past ({action['start_time']})")
        autoscaling.put_scheduled_update_group_action(
            AutoScalingGroupName=shop.group_name, ScheduledActionName=action["name"], StartTime=action["start_time"],
            MinSize=action["min_size"], MaxSize=action["max_size"])
    return actions


def run(shop: Shop, strategy: str, baseline: float, multiplier: float, floor: int, rate: float, work: Path) -> dict:
    """One strategy from the quiet state: the group at its minimum, one instance serving."""
    shop.emulator.client("autoscaling").set_desired_capacity(AutoScalingGroupName=shop.group_name,
                                                             DesiredCapacity=MIN_SIZE)
    shop.wait_size(MIN_SIZE)
    if strategy == "tt+schedule":
        # Locust's first shopper arrives within a second or so of now: 60 / rate emulated seconds
        # later is where the profile's minute 0 is taken to begin.
        begin = shop.emulator.clock()["epoch"] + 60 / rate
        spike_start = begin + PHASES["baseline"] * 60
        schedule(shop, spike_start, spike_start + (PHASES["ramp"] + PHASES["hold"]) * 60, floor)
    return replay(shop, profile(baseline, PHASES, multiplier, rate), work / strategy.replace("+", "-"), strategy)


def predicted(strategy: str, baseline: float, multiplier: float, instance_rps: float, ready: int, floor: int,
              rate: float) -> dict:
    """What the scaling simulation predicts for the same run, in the replay's units: demand in the
    ALB's requests per real second, minutes of the emulated clock."""
    from ansible_collections.shop.aws.plugins.module_utils import scaling_simulation as sim  # noqa: PLC0415

    spike = sim.Spike(start=PHASES["baseline"], multiplier=multiplier, ramp=PHASES["ramp"], hold=PHASES["hold"],
                      decay=PHASES["decay"])
    back = PHASES["baseline"] + PHASES["ramp"] + PHASES["hold"]
    actions = () if strategy == "tt" else (sim.ScheduledAction(PHASES["baseline"] - LEAD, floor, MAX_SIZE),
                                           sim.ScheduledAction(back, MIN_SIZE, MAX_SIZE))
    # An emulated minute holds 60 / rate real seconds of requests: the requests policy's target
    # in real requests per minute is rate times the policy's.
    settings = sim.Settings(instance_rps=instance_rps, ready_minutes=ready, min_size=MIN_SIZE, max_size=MAX_SIZE,
                            target=CPU_TARGET, schedule=actions, requests_per_target=REQUESTS_PER_TARGET * rate)
    result = sim.simulate(sim.Profile(hourly_rps=(baseline,) * 24, days=1, spikes=(spike,)), settings)
    minutes = sum(PHASES.values())
    return {"requests": round(sum(result.demand[:minutes]) * 60 / rate),
            "requests_at_risk": round(sum(result.deficit[:minutes]) * 60 / rate),
            "peak_instances": max(result.instances[:minutes]), "instance_minutes": sum(result.instances[:minutes])}


def saturated_rps(result: dict) -> float | None:
    """Requests/s per serving instance in the replay's seconds where answers queued (p95 above the
    slow mark): what the instances really served when they were the bottleneck."""
    rates = []
    start = result["samples"][0]["real"]
    for point in result["history"]:
        if point["p95"] is None or point["p95"] < SLOW_MS:
            continue
        serving = [s["healthy"] for s in result["samples"] if abs(s["real"] - point["t"]) <= 1]
        if serving and serving[0] and point["t"] > start:
            rates.append(point["rps"] / serving[0])
    return round(sorted(rates)[len(rates) // 2], 2) if len(rates) >= 5 else None


# --------------------------------------------------------------------------- the report
def chart(path: Path, results: list[dict], rate: float) -> None:
    import matplotlib  # noqa: PLC0415 - requirements.txt

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    figure, (load, fleet, slow) = plt.subplots(3, 1, figsize=(10, 9), sharex=True)
    for result in results:
        start = result["samples"][0]["real"]
        minutes = [(h["t"] - start) * rate / 60 for h in result["history"]]
        load.plot(minutes, [h["users"] for h in result["history"]], color="grey", linewidth=0.8)
        load.plot(minutes, [h["rps"] for h in result["history"]], label=f"served req/s, {result['strategy']}")
        slow.plot(minutes, [h["p95"] or 0 for h in result["history"]], label=f"p95, {result['strategy']}")
        fleet.step([(s["real"] - start) * rate / 60 for s in result["samples"]], [s["billed"] for s in result["samples"]],
                   where="post", label=f"instances (billed), {result['strategy']}")
    load.set_ylabel("requests/s (grey: asked)")
    fleet.set_ylabel("instances")
    slow.set_ylabel("p95 response (ms)")
    slow.set_xlabel("emulated minutes")
    for axis in (load, fleet, slow):
        axis.grid(alpha=0.3)
        axis.legend(loc="upper right", fontsize=8)
    figure.suptitle("A promotion spike replayed against the local shop")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def markdown(results: list[dict], setup: dict) -> str:
    lines = ["# A promotion spike replayed against the local shop", "",
             "Measured by `benchmarks/spike_replay.py` (Locust through the CloudFront stand-in and the ALB data plane; "
             "the emulator's CloudWatch, alarms and target tracking; see docs/elasticity.md).", "", "## Setup", ""]
    lines += [f"- {key}: {value}" for key, value in setup.items()]
    lines += ["", "## Strategies side by side", "",
              f"| strategy | requests | failed | slower than {SLOW_MS / 1000:g} s | p95 (ms) | p99 (ms) | peak instances "
              "| instance-minutes |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['strategy']} | {r['requests']:,} | {r['failed']:,} | {r['slow']:,} | {r['p95_ms']:.0f} | "
                     f"{r['p99_ms']:.0f} | {r['peak_instances']} | {r['instance_minutes']:.1f} |")
    lines += ["", "Failures by kind: " + "; ".join(
        f"{r['strategy']}: " + (", ".join(f"{k} x{v}" for k, v in r["failures"].items()) or "none") for r in results)]
    if any("predicted_before" in r for r in results):
        lines += ["", "## The simulation against the measurement", "",
                  "Requests at risk: measured, the failed and the slow answers; predicted, the demand above the serving "
                  "instances' capacity (plugins/module_utils/scaling_simulation.py). Instances: billed ones, launched "
                  "and not terminated.", "",
                  "| strategy | | requests at risk | peak instances | instance-minutes |", "|---|---|---:|---:|---:|"]
        for r in results:
            lines.append(f"| {r['strategy']} | measured | {r['failed'] + r['slow']:,} | {r['peak_instances']} | "
                         f"{r['instance_minutes']:.1f} |")
            for key, label in (("predicted_before", "predicted, before calibration"),
                               ("predicted_after", "predicted, calibrated")):
                if key in r:
                    p = r[key]
                    lines.append(f"| | {label} | {p['requests_at_risk']:,} | {p['peak_instances']} | "
                                 f"{p['instance_minutes']} |")
    return "\n".join(lines) + "\n"


def report(results: list[dict], setup: dict, out: Path, rate: float, stem: str = STACK) -> str:
    """<stem>.md, .json and .png in ``out``; the Markdown back."""
    out.mkdir(parents=True, exist_ok=True)
    text = markdown(results, setup)
    (out / f"{stem}.md").write_text(text)
    (out / f"{stem}.json").write_text(json.dumps({"setup": setup, "results": results}, indent=1, default=str))
    chart(out / f"{stem}.png", results, rate)
    return text


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clock-rate", type=float, default=10.0, help="emulated seconds per real second")
    parser.add_argument("--instance-cpus", type=float, default=0.05, help="CPUs of this machine per vCPU of an instance")
    parser.add_argument("--hold", type=int, default=PHASES["hold"], help="emulated minutes the spike holds")
    parser.add_argument("--strategies", default="tt,tt+schedule")
    parser.add_argument("--out", type=Path, default=ROOT / "docs/reports/spike")
    args = parser.parse_args(argv)
    if args.clock_rate <= 0 or args.instance_cpus <= 0:
        parser.error(f"--clock-rate and --instance-cpus must be above 0 (got {args.clock_rate:g}, {args.instance_cpus:g})")
    if args.hold < 1:
        parser.error(f"--hold must be 1 emulated minute or more (got {args.hold})")
    strategies = args.strategies.split(",")
    unknown = sorted(set(strategies) - {"tt", "tt+schedule"})
    if unknown:
        parser.error(f"--strategies: unknown {unknown}; choose among tt, tt+schedule")
    PHASES["hold"] = args.hold
    traffic = production_profile()
    multiplier = float(traffic["promotion_spike"]["multiplier"])
    emulator = Emulator(port=free_port(), state_dir=Path(tempfile.mkdtemp(prefix="spike-")), fleet=True,
                        options=("--dataplane-ports", free_port_range()))
    work = Path(tempfile.mkdtemp(prefix="spike-locust-"))
    shop = Shop(emulator, STACK)
    started = time.monotonic()
    emulator.start()
    try:
        # Built at AWS's pace with unbounded containers, as the fleet test builds (a boot at a
        # tenth of a CPU and ten times the clock outlasts the instance warm-up: see the docs).
        build(emulator)
        built = time.monotonic()
        emulator.bound_cpus(args.instance_cpus)
        emulator.clock(args.clock_rate)
        shop.wait_size(MIN_SIZE)
        probe = capacity(shop, work, args.clock_rate)
        print(f"one instance: {probe}", flush=True)
        baseline = max(1.0, round(probe["instance_rps"] / 4, 1))
        floor = min(MAX_SIZE, math.ceil(baseline * multiplier / (probe["instance_rps"] * CPU_TARGET)))
        results = []
        for strategy in strategies:
            results.append(run(shop, strategy, baseline, multiplier, floor, args.clock_rate, work))
            print(f"{strategy}: {({k: v for k, v in results[-1].items() if k not in ('samples', 'history')})}", flush=True)
    finally:
        emulator.stop()
        for image in podman("images", "--filter", f"reference={REPOSITORY}", "--format", "{{.Repository}}:{{.Tag}}").stdout.split():
            podman("rmi", "-f", image)
    waits = [w for r in results for w in ready_minutes(r["samples"])]
    ready = max(1, round(sum(waits) / len(waits))) if waits else traffic["ready_minutes"]
    served = [s for s in (saturated_rps(r) for r in results) if s]
    calibrated_rps = round(sum(served) / len(served), 2) if served else probe["instance_rps"]
    for result in results:
        result["predicted_before"] = predicted(result["strategy"], baseline, multiplier, probe["instance_rps"],
                                               traffic["ready_minutes"], floor, args.clock_rate)
        result["predicted_after"] = predicted(result["strategy"], baseline, multiplier, calibrated_rps, ready, floor,
                                              args.clock_rate)
    setup = {
        "machine": f"{os.cpu_count()} CPUs ({os.uname().machine}), Linux {os.uname().release}",
        "clock": f"{args.clock_rate:g}x (an emulated minute is {60 / args.clock_rate:g} s)",
        "instance": f"t3.micro, its container bounded to {2 * args.instance_cpus:g} CPU of this machine",
        "one instance at 100 % CPU (probe)": f"{probe['instance_rps']} requests/s (served {probe['rps']} req/s "
                                             f"at {probe['cpu_percent']} % CPU)",
        "profile (emulated minutes)": ", ".join(f"{k} {v}" for k, v in PHASES.items()),
        "load": f"baseline {baseline} shoppers (one page a second each); spike {multiplier:g}x "
                f"(traffic_profile.promotion_spike of inventories/production)",
        "group": f"min {MIN_SIZE}, max {MAX_SIZE}; target tracking on CPU {CPU_TARGET:.0%} and "
                 f"{REQUESTS_PER_TARGET} requests per target a minute",
        "promotion (tt+schedule)": f"floor {floor}, ceiling {MAX_SIZE}, scale-out {LEAD} min before the spike, "
                                   "scale-back at the end of the hold",
        "simulation before calibration": f"ready {traffic['ready_minutes']} min (production's traffic_profile), "
                                         f"{probe['instance_rps']} req/s an instance (the probe)",
        "simulation calibrated": f"ready {ready} min (measured scale-outs: {waits}), {calibrated_rps} req/s an "
                                 "instance (the saturated instances during the replays)",
        "wall time": f"build {(built - started) / 60:.1f} min, all {(time.monotonic() - started) / 60:.1f} min",
    }
    print(report(results, setup, args.out, args.clock_rate))
    return 0


if __name__ == "__main__":
    sys.exit(main())
