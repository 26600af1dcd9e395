"""Benchmark: the dynamic EC2 inventory (inventories/local/aws_ec2.yml) over a large fleet.

Launches N instances tagged as the local stack's web fleet (plus N/4 of another stack that
the filters must leave out) on a private emulator, then times `ansible-inventory --list`
cold (--flush-cache: DescribeInstances, then the cache is written) and warm (read from the
cache), and counts the AWS calls of each.
Usage: .venv/bin/python benchmarks/inventory.py [--instances 2000] [--runs 3]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers import ROOT, VENV_BIN, Emulator, free_port  # noqa: E402

STACK = "shop-local"


def launch(emulator, count: int, stack: str) -> None:
    ec2 = emulator.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    vpc = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.50.{i * 16}.0/20",
                                 AvailabilityZone=zone)["Subnet"]["SubnetId"]
               for i, zone in enumerate(["us-east-1a", "us-east-1b", "us-east-1c"])]
    tags = [{"Key": "Stack", "Value": stack}, {"Key": "ManagedBy", "Value": "ansible-shop-toolkit"},
            {"Key": "Role", "Value": "web"}, {"Key": "Environment", "Value": stack.rsplit("-", 1)[-1]},
            {"Key": "Project", "Value": "shop"}]
    launched = 0
    while launched < count:
        batch = min(250, count - launched)
        ec2.run_instances(ImageId=image, MinCount=batch, MaxCount=batch, InstanceType="t3.small",
                          SubnetId=subnets[(launched // 250) % len(subnets)],
                          TagSpecifications=[{"ResourceType": "instance", "Tags": tags}])
        launched += batch


def list_inventory(emulator, cache_dir: Path, flush: bool) -> tuple[float, int, int, int]:
    emulator.stats(reset=True)
    command = [str(VENV_BIN / "ansible-inventory"), "-i", "inventories/local/aws_ec2.yml", "--list"]
    if flush:
        command.append("--flush-cache")
    env = dict(os.environ, AWS_URL=emulator.url, ANSIBLE_INVENTORY_CACHE_CONNECTION=str(cache_dir))
    started = time.monotonic()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, check=True)
    seconds = time.monotonic() - started
    found = json.loads(proc.stdout)
    hosts = len(found["_meta"]["hostvars"])
    groups = len([g for g in found if g not in ("_meta", "all")])
    return seconds, hosts, groups, emulator.stats()["total"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3, help="median of this many runs each")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="inventory-bench-"))
    emulator = Emulator(port=free_port(), state_dir=work / "emulator")
    emulator.start()
    try:
        started = time.monotonic()
        launch(emulator, args.instances, STACK)
        launch(emulator, args.instances // 4, "shop-staging")  # must be filtered out
        print(f"launched {args.instances} + {args.instances // 4} instances in {time.monotonic() - started:.1f} s")
        results = {"cold (--flush-cache)": [], "warm (cache)": []}
        for _ in range(args.runs):
            results["cold (--flush-cache)"].append(list_inventory(emulator, work / "cache", flush=True))
            results["warm (cache)"].append(list_inventory(emulator, work / "cache", flush=False))
    finally:
        emulator.stop()
    print(f"ansible-inventory --list, inventories/local/aws_ec2.yml, median of {args.runs}")
    print(f"{'run':<22} {'wall s':>7} {'hosts':>6} {'groups':>7} {'API calls':>10}")
    for name, runs in results.items():
        print(f"{name:<22} {statistics.median(r[0] for r in runs):>7.2f} {runs[0][1]:>6} {runs[0][2]:>7} "
              f"{statistics.median(r[3] for r in runs):>10.0f}")


if __name__ == "__main__":
    main()
