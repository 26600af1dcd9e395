"""Replay a promotion spike against the live local shop and measure what the group does with it.

Usage: .venv/bin/python benchmarks/spike_replay.py [--clock-rate 10] [--instance-cpus 0.05]
           [--hold 30] [--out docs/reports/spike] [--strategies tt,tt+schedule]

On a fleet emulator of its own (every instance a container whose CPU is bounded by its instance
type's vCPUs x --instance-cpus, the emulator's clock at --clock-rate): bakes the web image,
builds the stack with site.yml (stack "spike-local": min 1, max 8, CPU target 50 %), rolls the
image out and releases the static files. Then:

1. measures what one instance serves: Locust at a fixed number of shoppers for a few
   emulated minutes, CPUUtilization and RequestCount read back from the emulator's CloudWatch:
   requests/s at 100 % CPU;
2. replays the production profile's promotion spike scaled to that (baseline = a quarter of an
   instance, 10x for the spike: ramp, hold, decay, as emulated minutes) with Locust through the
   CloudFront stand-in, once per strategy: target tracking alone, then target tracking plus the
   promotion's scheduled actions (as plugins/module_utils/promotions.py plans them, at the
   emulated time); the group starts each run at its minimum;
3. samples the group every second and reports, per strategy: requests, failed requests (5xx,
   timeouts), p95 and p99, instances over time and instance-minutes (the cost), as a table
   (Markdown, JSON) and a PNG chart in --out.

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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from helpers import VENV_BIN, Emulator, free_port, free_port_range, podman, run_playbook  # noqa: E402

PROJECT = "spike"
STACK = f"{PROJECT}-local"
GROUP = f"{STACK}-web"
REPOSITORY = "localhost/shop-web-spike"
ENV = {"SHOP_STACK": STACK}
MAX_SIZE = 8


def extra(**more) -> dict:
    return {"stack_project": PROJECT, "compute_min_size": 1, "compute_desired_capacity": 1,
            "compute_max_size": MAX_SIZE, "web_image_container_repository": REPOSITORY, **more}


def build(emulator: Emulator) -> None:
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


def group(emulator: Emulator) -> dict:
    return emulator.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[GROUP])["AutoScalingGroups"][0]


def healthy(emulator: Emulator) -> int:
    elb = emulator.client("elbv2")
    arn = elb.describe_target_groups(Names=[GROUP])["TargetGroups"][0]["TargetGroupArn"]
    states = elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
    return sum(1 for d in states if d["TargetHealth"]["State"] == "healthy")


def shop_url(emulator: Emulator) -> str:
    listing = emulator.dataplane()
    domain = next(d["DomainName"] for d in emulator.client("cloudfront").list_distributions()["DistributionList"]["Items"]
                  if d["Comment"].startswith(STACK))
    return listing["distributions"][domain]["https"]


def locust(url: str, profile: list[list[float]], prefix: Path) -> None:
    """Locust headless along the profile ([seconds, users]); its CSVs under ``prefix``."""
    path = prefix.with_suffix(".profile.json")
    path.write_text(json.dumps(profile))
    seconds = int(profile[-1][0]) + 30
    command = [str(VENV_BIN / "locust"), "-f", str(ROOT / "benchmarks/spike_locustfile.py"), "--headless",
               "--host", url, "--csv", str(prefix), "--csv-full-history", "--only-summary",
               "--run-time", f"{seconds}s", "--stop-timeout", "30", "--loglevel", "WARNING"]
    subprocess.run(command, check=False, timeout=seconds + 120, stdout=subprocess.DEVNULL,  # noqa: S603 - our locust
                   env={**os.environ, "SPIKE_PROFILE": str(path), "SPIKE_COUNTS": f"{prefix}_counts.json"})


def totals(prefix: Path) -> dict:
    with open(f"{prefix}_stats.csv", newline="", encoding="utf-8") as handle:
        rows = {row["Name"]: row for row in csv.DictReader(handle)}
    row = rows["Aggregated"]
    failures = {}
    with open(f"{prefix}_failures.csv", newline="", encoding="utf-8") as handle:
        for failure in csv.DictReader(handle):
            failures[failure["Error"]] = failures.get(failure["Error"], 0) + int(failure["Occurrences"])
    slow = json.loads(Path(f"{prefix}_counts.json").read_text())["slow"]
    return {"requests": int(row["Request Count"]), "failed": int(row["Failure Count"]), "slow": slow,
            "p50_ms": float(row["50%"]), "p95_ms": float(row["95%"]), "p99_ms": float(row["99%"]),
            "max_ms": float(row["Max Response Time"]), "failures": failures}


def history(prefix: Path) -> list[dict]:
    with open(f"{prefix}_stats_history.csv", newline="", encoding="utf-8") as handle:
        return [{"t": int(r["Timestamp"]), "users": int(r["User Count"]), "rps": float(r["Requests/s"]),
                 "failures": float(r["Failures/s"]), "p95": float(r["95%"]) if r["95%"] not in ("N/A", "") else None}
                for r in csv.DictReader(handle) if r["Name"] == "Aggregated"]


class Sampler(threading.Thread):
    """The group each second: emulated time, desired, in service, healthy targets."""

    def __init__(self, emulator: Emulator):
        super().__init__(daemon=True)
        self.emulator, self.samples, self.stop = emulator, [], threading.Event()

    def run(self) -> None:
        while not self.stop.wait(1.0):
            try:
                found = group(self.emulator)
                self.samples.append({"real": time.time(), "emulated": self.emulator.clock()["epoch"],
                                     "desired": found["DesiredCapacity"],
                                     "in_service": sum(1 for i in found["Instances"] if i["LifecycleState"] == "InService"),
                                     "healthy": healthy(self.emulator)})
            except Exception as error:  # noqa: BLE001 - a missed sample is not a failed benchmark
                print(f"sample missed: {error}", file=sys.stderr)


def to_minimum(emulator: Emulator) -> None:
    """The quiet state each run starts from: the group at its minimum, one instance serving."""
    emulator.client("autoscaling").set_desired_capacity(AutoScalingGroupName=GROUP, DesiredCapacity=1)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if group(emulator)["DesiredCapacity"] == 1 and healthy(emulator) == 1:
            return
        time.sleep(2)
    raise SystemExit("the group did not come back to one healthy instance within 10 minutes")


def capacity(emulator: Emulator, url: str, work: Path, rate: float) -> dict:
    """Requests/s one instance serves at 100 % CPU, from a steady load and CloudWatch's figures."""
    users, minutes = 4, 6
    seconds = minutes * 60 / rate
    start = emulator.clock()["epoch"]
    locust(url, [[0, users], [seconds, users]], work / "capacity")
    end = emulator.clock()["epoch"]
    cloudwatch = emulator.client("cloudwatch")
    window = {"StartTime": dt.datetime.fromtimestamp(start + 120, dt.UTC), "EndTime": dt.datetime.fromtimestamp(end - 60, dt.UTC),
              "Period": 60}
    cpu = cloudwatch.get_metric_statistics(Namespace="AWS/EC2", MetricName="CPUUtilization", Statistics=["Average"],
                                           Dimensions=[{"Name": "AutoScalingGroupName", "Value": GROUP}], **window)
    lb = emulator.client("elbv2").describe_load_balancers(Names=[STACK])["LoadBalancers"][0]["LoadBalancerArn"]
    requests = cloudwatch.get_metric_statistics(Namespace="AWS/ApplicationELB", MetricName="RequestCount", Statistics=["Sum"],
                                                Dimensions=[{"Name": "LoadBalancer", "Value": lb.split(":loadbalancer/")[1]}],
                                                **window)
    cpu_avg = sum(p["Average"] for p in cpu["Datapoints"]) / max(1, len(cpu["Datapoints"]))
    rps = sum(p["Sum"] for p in requests["Datapoints"]) / max(1, len(requests["Datapoints"])) / 60 * rate
    return {"cpu_percent": round(cpu_avg, 1), "rps": round(rps, 2),
            "instance_rps": round(rps / (cpu_avg / 100), 2) if cpu_avg > 0 else None}


def profile(baseline: float, hold: int, rate: float) -> tuple[list[list[float]], dict]:
    """Users over real seconds: baseline 10 min, ramp 10, hold, decay 20, tail 15 (emulated minutes)."""
    phases = {"baseline": 10, "ramp": 10, "hold": hold, "decay": 20, "tail": 15}
    minute = 60 / rate
    t = 0.0
    points = [[0.0, baseline]]
    t += phases["baseline"] * minute
    points.append([t, baseline])
    t += phases["ramp"] * minute
    points.append([t, baseline * 10])
    t += phases["hold"] * minute
    points.append([t, baseline * 10])
    t += phases["decay"] * minute
    points.append([t, baseline])
    t += phases["tail"] * minute
    points.append([t, baseline])
    return points, phases


def schedule(emulator: Emulator, start: float, end: float, floor: int, lead: int) -> list[str]:
    """The promotion's two scheduled actions, planned as the compute role plans them, at emulated times."""
    sys.path.insert(0, str(ROOT / "plugins/module_utils"))
    import promotions  # noqa: PLC0415 - the collection's own planner, pure Python

    now = dt.datetime.fromtimestamp(emulator.clock()["epoch"], dt.UTC)
    spike = {"name": "spike", "start": dt.datetime.fromtimestamp(start, dt.UTC), "end": dt.datetime.fromtimestamp(end, dt.UTC),
             "min_size": floor, "max_size": MAX_SIZE, "scale_out_minutes": lead}
    actions = promotions.plan([spike], 1, MAX_SIZE, now=now)
    autoscaling = emulator.client("autoscaling")
    for action in actions:
        autoscaling.put_scheduled_update_group_action(AutoScalingGroupName=GROUP, ScheduledActionName=action["name"],
                                                      StartTime=action["start_time"], MinSize=action["min_size"],
                                                      MaxSize=action["max_size"])
    return [a["name"] for a in actions]


def run(emulator: Emulator, url: str, strategy: str, points: list, phases: dict, rate: float, floor: int, lead: int,
        work: Path) -> dict:
    to_minimum(emulator)
    begin = emulator.clock()["epoch"]
    if strategy == "tt+schedule":
        spike_start = begin + phases["baseline"] * 60
        spike_end = spike_start + (phases["ramp"] + phases["hold"]) * 60
        schedule(emulator, spike_start, spike_end, floor, lead)
    sampler = Sampler(emulator)
    sampler.start()
    prefix = work / strategy.replace("+", "-")
    locust(url, points, prefix)
    sampler.stop.set()
    sampler.join()
    samples = sampler.samples
    minutes = 0.0
    for before, after in zip(samples, samples[1:], strict=False):
        minutes += before["in_service"] * (after["emulated"] - before["emulated"]) / 60
    return {"strategy": strategy, **totals(prefix), "peak_instances": max(s["in_service"] for s in samples),
            "instance_minutes": round(minutes, 1), "samples": samples, "history": history(prefix),
            "began_real": samples[0]["real"] if samples else time.time()}


def ready_minutes(samples: list[dict]) -> float | None:
    """Emulated minutes from a scale-out to its instances serving (healthy), on average."""
    waits = []
    for index, (before, after) in enumerate(zip(samples, samples[1:], strict=False)):
        if after["desired"] > before["desired"]:
            wanted = after["desired"]
            done = next((s for s in samples[index + 1:] if s["healthy"] >= wanted), None)
            if done:
                waits.append((done["emulated"] - after["emulated"]) / 60)
    return round(sum(waits) / len(waits), 1) if waits else None


def predicted(strategy: str, baseline: float, phases: dict, instance_rps: float, ready: int, floor: int, lead: int,
              rate: float) -> dict:
    """What the scaling simulation (plugins/module_utils/scaling_simulation.py) predicts for the same
    run: the same profile in requests/s, one instance's measured capacity, the measured time to serve."""
    from ansible_collections.shop.aws.plugins.module_utils import scaling_simulation as sim  # noqa: PLC0415

    spike = sim.Spike(start=phases["baseline"], multiplier=10, ramp=phases["ramp"], hold=phases["hold"],
                      decay=phases["decay"])
    profile = sim.Profile(hourly_rps=(baseline,) * 24, days=1, spikes=(spike,))
    back = phases["baseline"] + phases["ramp"] + phases["hold"]
    schedule = () if strategy == "tt" else (sim.ScheduledAction(phases["baseline"] - lead, floor, MAX_SIZE),
                                            sim.ScheduledAction(back, 1, MAX_SIZE))
    # The requests policy counts an emulated minute's requests: rate times fewer than a real minute's.
    settings = sim.Settings(instance_rps=instance_rps, ready_minutes=ready, min_size=1, max_size=MAX_SIZE, target=0.5,
                            schedule=schedule, requests_per_target=1000 * rate)
    result = sim.simulate(profile, settings)
    minutes = sum(phases.values())
    return {"requests": round(sum(result.demand[:minutes]) * 60 / rate),
            "requests_at_risk": round(sum(result.deficit[:minutes]) * 60 / rate),
            "peak_instances": max(result.instances[:minutes]), "instance_minutes": sum(result.instances[:minutes])}


def chart(path: Path, results: list[dict], points: list, rate: float) -> None:
    import matplotlib  # noqa: PLC0415 - requirements.txt

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    figure, (load, fleet, errors) = plt.subplots(3, 1, figsize=(10, 9), sharex=True)
    to_minutes = rate / 60
    load.plot([t * to_minutes for t, _ in points], [u for _, u in points], color="grey", label="shoppers (1 page/s each)")
    for result in results:
        start = result["history"][0]["t"] if result["history"] else 0
        load.plot([(h["t"] - start) * to_minutes for h in result["history"]], [h["rps"] for h in result["history"]],
                  label=f"served req/s, {result['strategy']}")
        errors.plot([(h["t"] - start) * to_minutes for h in result["history"]], [h["failures"] for h in result["history"]],
                    label=result["strategy"])
        first = result["samples"][0]["emulated"] if result["samples"] else 0
        fleet.step([(s["emulated"] - first) / 60 for s in result["samples"]], [s["in_service"] for s in result["samples"]],
                   where="post", label=f"in service, {result['strategy']}")
    load.set_ylabel("requests/s")
    fleet.set_ylabel("instances")
    errors.set_ylabel("failed requests/s")
    errors.set_xlabel("emulated minutes")
    for axis in (load, fleet, errors):
        axis.grid(alpha=0.3)
        axis.legend(loc="upper right", fontsize=8)
    figure.suptitle("A 10x promotion spike replayed against the local shop")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)


def markdown(results: list[dict], setup: dict) -> str:
    lines = ["# A 10x promotion spike replayed against the local shop", "",
             "Measured by `benchmarks/spike_replay.py` (Locust through the CloudFront stand-in and the ALB data plane, "
             "the emulator's CloudWatch, alarms and target tracking; see docs/elasticity.md).", "", "## Setup", ""]
    lines += [f"- {key}: {value}" for key, value in setup.items()]
    lines += ["", "## Strategies side by side", "",
              "| strategy | requests | failed | failed share | slower than 1 s | p95 (ms) | p99 (ms) | peak instances | "
              "instance-minutes |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        share = r["failed"] / r["requests"] if r["requests"] else 0
        lines.append(f"| {r['strategy']} | {r['requests']:,} | {r['failed']:,} | {share:.2%} | {r['slow']:,} | "
                     f"{r['p95_ms']:.0f} | {r['p99_ms']:.0f} | {r['peak_instances']} | {r['instance_minutes']:.1f} |")
    lines += ["", "## The simulation against the measurement", "",
              "Requests at risk: measured, the failed and the slower than 1 s; predicted, demand above the serving "
              "instances' capacity (plugins/module_utils/scaling_simulation.py with the measured capacity of an instance; "
              "before calibration with production's 5 minutes from launch to service, after with the measured time).", "",
              "| strategy | | requests at risk | peak instances | instance-minutes |", "|---|---|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['strategy']} | measured | {r['failed'] + r['slow']:,} | {r['peak_instances']} | "
                     f"{r['instance_minutes']:.1f} |")
        for key, label in (("predicted_before", "predicted, before calibration"), ("predicted_after", "predicted, after")):
            if key in r:
                lines.append(f"| | {label} | {r[key]['requests_at_risk']:,} | {r[key]['peak_instances']} | "
                             f"{r[key]['instance_minutes']} |")
    lines += ["", "Failures by kind:", ""]
    for r in results:
        lines.append(f"- {r['strategy']}: " + (", ".join(f"{k} x{v}" for k, v in r["failures"].items()) or "none"))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clock-rate", type=float, default=10.0, help="emulated seconds per real second")
    parser.add_argument("--instance-cpus", type=float, default=0.05, help="CPUs of this machine per vCPU of an instance")
    parser.add_argument("--hold", type=int, default=30, help="emulated minutes the spike holds at 10x")
    parser.add_argument("--strategies", default="tt,tt+schedule")
    parser.add_argument("--out", type=Path, default=ROOT / "docs/reports/spike")
    args = parser.parse_args(argv)
    if args.clock_rate <= 0 or args.instance_cpus <= 0:
        parser.error("--clock-rate and --instance-cpus must be above 0")
    strategies = args.strategies.split(",")
    unknown = sorted(set(strategies) - {"tt", "tt+schedule"})
    if unknown:
        parser.error(f"--strategies: unknown {unknown}; choose among tt, tt+schedule")
    emulator = Emulator(port=free_port(), state_dir=Path(tempfile.mkdtemp(prefix="spike-")), fleet=True,
                        options=("--clock-rate", str(args.clock_rate), "--instance-cpus", str(args.instance_cpus),
                                 "--dataplane-ports", free_port_range()))
    work = Path(tempfile.mkdtemp(prefix="spike-locust-"))
    started = time.monotonic()
    emulator.start()
    try:
        build(emulator)
        url = shop_url(emulator)
        to_minimum(emulator)
        measured = capacity(emulator, url, work, args.clock_rate)
        print(f"one instance: {measured}", flush=True)
        baseline = max(1.0, round(measured["instance_rps"] / 4, 1))
        points, phases = profile(baseline, args.hold, args.clock_rate)
        floor = min(MAX_SIZE, math.ceil(baseline * 10 / (measured["instance_rps"] * 0.5)))
        lead = 10
        results = [run(emulator, url, s, points, phases, args.clock_rate, floor, lead, work) for s in strategies]
        waits = [w for w in (ready_minutes(r["samples"]) for r in results) if w is not None]
        ready = math.ceil(sum(waits) / len(waits)) if waits else 5
        for result in results:
            # Before calibration: production's assumption of 5 minutes from launch to service;
            # after: the time measured here. Both with the measured capacity of an instance.
            result["predicted_before"] = predicted(result["strategy"], baseline, phases, measured["instance_rps"], 5,
                                                   floor, lead, args.clock_rate)
            result["predicted_after"] = predicted(result["strategy"], baseline, phases, measured["instance_rps"], ready,
                                                  floor, lead, args.clock_rate)
    finally:
        emulator.stop()
        for image in podman("images", "--filter", f"reference={REPOSITORY}", "--format", "{{.Repository}}:{{.Tag}}").stdout.split():
            podman("rmi", "-f", image)
    setup = {"machine": f"{os.cpu_count()} CPUs ({os.uname().machine}), {os.uname().sysname} {os.uname().release}",
             "clock": f"{args.clock_rate:g}x (an emulated minute is {60 / args.clock_rate:g} s)",
             "instance": f"t3.micro bounded to {2 * args.instance_cpus:g} CPU of this machine",
             "one instance at 100 % CPU": f"{measured['instance_rps']} requests/s (measured at {measured['rps']} req/s, "
                                          f"{measured['cpu_percent']} % CPU)",
             "profile (emulated minutes)": phases, "baseline": f"{baseline} shoppers (one page/s each); spike 10x",
             "group": f"min 1, max {MAX_SIZE}, CPU target 50 %, requests per target 1000/min",
             "promotion (tt+schedule)": f"floor {floor}, ceiling {MAX_SIZE}, scale-out {lead} min before the spike",
             "launch to serving (measured)": f"{waits} emulated minutes per scale-out, {ready} used to calibrate",
             "wall time": f"{(time.monotonic() - started) / 60:.1f} min"}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{STACK}.md").write_text(markdown(results, setup))
    (args.out / f"{STACK}.json").write_text(json.dumps({"setup": setup, "results": results}, indent=1, default=str))
    chart(args.out / f"{STACK}.png", results, points, args.clock_rate)
    print(markdown(results, setup))
    return 0


if __name__ == "__main__":
    sys.exit(main())
