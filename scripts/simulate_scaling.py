#!/usr/bin/env python3
"""Simulate an environment's web group under its promotion spike, three strategies side by side.

    scripts/simulate_scaling.py -i inventories/production [--multiplier 20] [--ramp 0] [--out DIR] [--no-chart]

Reads the inventory's group_vars/all/*.yml over the compute role's defaults (literal values only:
a templated one is refused, run playbooks/scaling_simulation.yml for those) and the prices of
playbooks/vars/aws_prices.yml; prints the Markdown table, and with --out writes <stack>.md,
.json and .png there. Same simulation as the playbook: plugins/module_utils/scaling_simulation.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def inventory_vars(inventory: Path) -> dict:
    values = yaml.safe_load((ROOT / "roles/compute/defaults/main.yml").read_text()) or {}
    folder = inventory / "group_vars" / "all"
    if not folder.is_dir():
        raise SystemExit(f"--inventory: {inventory} has no group_vars/all/ (try inventories/production)")
    for path in sorted(folder.glob("*.yml")):
        values.update(yaml.safe_load(path.read_text()) or {})
    return values


def literal(values: dict, name: str):
    value = values.get(name)
    if isinstance(value, str) and "{{" in value:
        raise SystemExit(f"{name} is templated ({value}); run playbooks/scaling_simulation.yml instead")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-i", "--inventory", type=Path, default=ROOT / "inventories/production")
    parser.add_argument("--multiplier", type=float, help="the spike's height over the baseline (default: the inventory's)")
    parser.add_argument("--ramp", type=int, help="minutes the spike takes to reach its height (default: the inventory's)")
    parser.add_argument("--out", type=Path, help="write <stack>.md, .json and .png in this folder")
    parser.add_argument("--no-chart", action="store_true", help="with --out, skip the PNG")
    args = parser.parse_args(argv)

    # The collection shop.aws (this tree, linked into the venv by scripts/setup.sh).
    from ansible_collections.shop.aws.plugins.module_utils import scaling_report as report
    from ansible_collections.shop.aws.plugins.module_utils import scaling_simulation as sim
    values = inventory_vars(args.inventory if args.inventory.is_absolute() else Path.cwd() / args.inventory)
    traffic = literal(values, "traffic_profile")
    if not traffic:
        raise SystemExit(f"traffic_profile: not declared in {args.inventory}/group_vars/all/")
    spike = dict(traffic.get("promotion_spike") or {})
    if args.multiplier is not None:
        spike["multiplier"] = args.multiplier
    if args.ramp is not None:
        spike["ramp_minutes"] = args.ramp
    errors = sim.check_traffic(dict(traffic, promotion_spike=spike or None))
    if not spike:
        errors.append("traffic_profile.promotion_spike: not declared")
    if errors:
        raise SystemExit("; ".join(errors))
    prices = yaml.safe_load((ROOT / "playbooks/vars/aws_prices.yml").read_text())["aws_prices"]
    region = literal(values, "aws_region")
    instance_type = literal(values, "compute_instance_type")
    hourly = prices.get(region, {}).get("ec2_hour", {}).get("usd", {}).get(instance_type)
    if hourly is None:
        print(f"note: no price for {instance_type} in {region}: EC2 cost shown as 0", file=sys.stderr)
    group = {"min_size": literal(values, "compute_min_size"), "max_size": literal(values, "compute_max_size"),
             "target_cpu": literal(values, "compute_target_cpu"),
             "requests_per_target": literal(values, "compute_target_requests_per_target"),
             "hourly_price": hourly or 0.0}
    promotion = next((p for p in literal(values, "compute_promotions") or [] if p.get("name") == spike.get("promotion")), None)
    profile = sim.profile_from(traffic, spike)
    results = sim.compare(profile, sim.strategies(profile, sim.group_settings(traffic, group), promotion))
    stack = f"{literal(values, 'stack_project')}-{literal(values, 'stack_environment')}"
    title = f"{stack}: a {spike['multiplier']:g}x promotion spike ({instance_type}, target CPU {group['target_cpu']} %)"
    inputs = report.inputs(traffic, spike, group, promotion)
    print(report.markdown(title, inputs, results))
    if args.out:
        files = report.write(args.out, stack, title, inputs, results, not args.no_chart, opening=profile.spikes[0].start)
        print("written: " + ", ".join(files.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
