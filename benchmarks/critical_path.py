"""Benchmark: how much of AWS's waiting a build and a teardown pay, against the critical path.

For an inventory (production by default), on the local emulator:
  T0  wall time of a first build (and of a destroy) with the emulator instant;
  T1  the same in realistic mode at a latency scale (default 0.2: one fifth of real time);
  CP  the longest chain of the scaled latencies through the stack's dependency graph (what the
      build must wait for at the very least);
  SUM every scaled latency added up (what a playbook that waits for each resource in turn pays).
It prints the waiting overhead T1 - T0 against CP and SUM (goal: T1 - T0 <= 1.15 x CP), and a
no-op re-run's API calls per managed resource and its wall time against the first build.
The latencies are the emulator's own (tools/emulator/services/*.py), each with its source.

Usage: .venv/bin/python benchmarks/critical_path.py [--inventory production] [--scale 0.2]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tools/emulator"))

import yaml  # noqa: E402
from billable import stack_inventory  # noqa: E402
from helpers import Emulator, free_port, run_playbook  # noqa: E402
from services import cloudfront, ec2, elasticache, elbv2, rds  # noqa: E402

TOOK = re.compile(r"# took ([0-9.]+)s")
REGIONS = {"local": "us-east-1", "staging": "eu-west-1", "production": "eu-west-1"}


def settings(inventory: str) -> dict:
    values = {}
    for path in sorted((ROOT / "inventories" / inventory / "group_vars/all").glob("*.yml")):
        values.update(yaml.safe_load(path.read_text()) or {})
    return values


def graphs(inventory: str) -> dict[str, dict[str, tuple[float, list[str]]]]:
    """Build and destroy dependency graphs: node -> (AWS seconds, the nodes it waits for)."""
    env = settings(inventory)
    azs = env.get("network_azs", [])
    nats = [f"nat {az}" for az in (azs if env.get("network_nat_mode") == "per_az" else azs[:1])]
    multi_az = bool(env.get("database_multi_az"))
    health = float(env.get("loadbalancer_health_check_interval", 30))
    build = {
        "network": (0, []), "security groups": (0, ["network"]),
        **{nat: (ec2.NAT_CREATE_SECONDS, ["network"]) for nat in nats},
        "app routes": (0, nats),
        "rds": (rds.CREATE_SECONDS[multi_az], ["security groups"]),
        "alb": (elbv2.PROVISIONING_SECONDS, ["security groups"]),
        "cloudfront": (cloudfront.DEPLOY_SECONDS, ["alb"]),
        # The fleet: instances pending, then one health check before they serve.
        "instances": (ec2.INSTANCE_PENDING_SECONDS + health, ["app routes", "alb"]),
        "settings": (0, ["rds"]),
    }
    if env.get("cache_enabled"):
        build["cache"] = (elasticache.CREATE_SECONDS, ["security groups"])
        build["settings"] = (0, ["rds", "cache"])
    destroy = {
        "cloudfront": (cloudfront.DEPLOY_SECONDS, []),  # disabled, deployed, then deleted
        "fleet": (0, []), "alb": (0, ["fleet"]),
        "rds": (rds.DELETE_SECONDS, []),
        **{nat: (ec2.NAT_DELETE_SECONDS, []) for nat in nats},
        "security groups": (0, ["rds", "alb", "fleet"]),
        "subnets and vpc": (0, ["security groups", *nats]),
    }
    if env.get("cache_enabled"):
        destroy["cache"] = (elasticache.DELETE_SECONDS, [])
        destroy["security groups"] = (0, ["rds", "alb", "fleet", "cache"])
    return {"build": build, "destroy": destroy}


def critical_path(graph: dict[str, tuple[float, list[str]]]) -> tuple[float, list[str]]:
    @cache
    def finish(node: str) -> tuple[float, tuple[str, ...]]:
        seconds, needs = graph[node]
        before = max((finish(n) for n in needs), default=(0.0, ()))
        return before[0] + seconds, (*before[1], node)

    end = max((finish(n) for n in graph), key=lambda f: f[0])
    return end[0], [n for n in end[1] if graph[n][0] > 0]


def timed(emulator, playbook: str, inventory: str, *args, extra=None) -> tuple[float, object]:
    run = run_playbook(emulator, playbook, *args, inventory=inventory, extra=extra, timeout=3600)
    if run.rc != 0:
        sys.exit(f"{playbook} failed:\n{run.output[-3000:]}")
    return float(TOOK.search(run.output).group(1)), run


def poll_settings(scale: float) -> dict:
    """The roles' poll intervals (their defaults) at the run's time scale: a 15 s poll would otherwise cost 75 s of
    AWS time at a fifth of real time, which says nothing about the playbooks' own design."""
    polls = {}
    for role in ("database", "cache", "cdn", "network"):
        name = f"{role}_poll_seconds"
        seconds = yaml.safe_load((ROOT / "roles" / role / "defaults/main.yml").read_text())[name]
        polls[name] = max(1, round(seconds * scale))
    return polls


def lifecycle(inventory: str, options: tuple[str, ...], extra: dict) -> dict:
    emulator = Emulator(port=free_port(), state_dir=Path(tempfile.mkdtemp(prefix="awsemu-cp-")), options=options)
    emulator.start()
    region, stack = REGIONS[inventory], f"shop-{inventory}"
    try:
        ssm = emulator.client("ssm", region)
        ami = ssm.get_parameter(Name="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")["Parameter"]["Value"]
        ssm.put_parameter(Name=f"/{stack}/web/ami-id", Value=ami, Type="String", Overwrite=True)
        build, _ = timed(emulator, "site.yml", inventory, extra=extra)
        resources = sum(stack_inventory(emulator, region, stack).values())
        emulator.stats(reset=True)
        rerun, run = timed(emulator, "site.yml", inventory, extra=extra)
        calls = emulator.stats()["total"]
        destroy, _ = timed(emulator, "playbooks/destroy.yml", inventory, extra={**extra, "destroy_confirm": stack})
    finally:
        emulator.stop()
    return {"build": build, "rerun": rerun, "destroy": destroy, "calls": calls, "resources": resources,
            "rerun_changed": run.recap["changed"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inventory", default="production", choices=sorted(REGIONS))
    parser.add_argument("--scale", type=float, default=0.2, help="real seconds per AWS second in the realistic run")
    args = parser.parse_args()
    polls = poll_settings(args.scale)
    instant = lifecycle(args.inventory, (), polls)
    slow = lifecycle(args.inventory, ("--latency-scale", str(args.scale)), polls)
    print(f"{args.inventory} inventory, latency scale {args.scale} (realistic run without faults), "
          + ", ".join(f"{name}={value}" for name, value in polls.items()))
    print(f"{'':<8} {'T0 s':>7} {'T1 s':>7} {'T1-T0':>7} {'CP s':>7} {'SUM s':>7} {'(T1-T0)/CP':>11} {'SUM/CP':>7}  critical path")
    for phase, graph in graphs(args.inventory).items():
        cp, chain = critical_path(graph)
        cp *= args.scale
        total = sum(seconds for seconds, _ in graph.values()) * args.scale
        overhead = slow[phase] - instant[phase]
        print(f"{phase:<8} {instant[phase]:>7.1f} {slow[phase]:>7.1f} {overhead:>7.1f} {cp:>7.1f} {total:>7.1f} "
              f"{overhead / cp:>11.2f} {total / cp:>7.2f}  {' -> '.join(chain)}")
    for name, run in (("instant", instant), ("realistic", slow)):
        print(f"no-op re-run ({name}): {run['rerun']:.1f} s against a first build of {run['build']:.1f} s "
              f"({run['rerun'] / run['build']:.0%}), changed={run['rerun_changed']}, {run['calls']} API calls for "
              f"{run['resources']} managed resources = {run['calls'] / run['resources']:.1f} calls a resource")


if __name__ == "__main__":
    main()
