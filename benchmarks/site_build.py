"""Benchmark: site.yml on the local emulator, first build and no-op re-run.

Prints, for each run: wall time, tasks run, and AWS API calls (counted at the emulator).
Usage: .venv/bin/python benchmarks/site_build.py [--inventory local] [--runs 1]
"""

import argparse
import re
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers import Emulator, free_port, run_playbook  # noqa: E402

TOOK = re.compile(r"# took ([0-9.]+)s")


def measure(emulator, inventory, *args):
    emulator.stats(reset=True)
    run = run_playbook(emulator, "site.yml", *args, inventory=inventory)
    if run.rc != 0:
        sys.exit(f"site.yml failed:\n{run.output[-3000:]}")
    calls = emulator.stats()
    return {
        "seconds": float(TOOK.search(run.output).group(1)),
        "tasks": run.output.count("\nTASK ["),
        "changed": run.recap["changed"],
        "api_calls": calls["total"],
        "top": sorted(calls["calls"].items(), key=lambda kv: -kv[1])[:5],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inventory", default="local")
    parser.add_argument("--runs", type=int, default=1, help="repeat each measurement and report the median")
    args = parser.parse_args()
    emulator = Emulator(port=free_port(), state_dir=Path(tempfile.mkdtemp(prefix="awsemu-bench-")))
    emulator.start()
    try:
        results = {"first build": [], "no-op re-run": []}
        for _ in range(args.runs):
            emulator.reset()
            if args.inventory != "local":
                ssm = emulator.client("ssm", "eu-west-1")
                ami = ssm.get_parameter(Name="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")["Parameter"]["Value"]
                ssm.put_parameter(Name=f"/shop-{args.inventory}/web/ami-id", Value=ami, Type="String", Overwrite=True)
            results["first build"].append(measure(emulator, args.inventory))
            results["no-op re-run"].append(measure(emulator, args.inventory))
    finally:
        emulator.stop()
    print(f"site.yml on the emulator, inventory {args.inventory}, median of {args.runs} run(s)")
    print(f"{'run':<14} {'wall s':>8} {'tasks':>6} {'changed':>8} {'API calls':>10}")
    for name, runs in results.items():
        print(f"{name:<14} {statistics.median(r['seconds'] for r in runs):>8.1f} "
              f"{statistics.median(r['tasks'] for r in runs):>6.0f} {statistics.median(r['changed'] for r in runs):>8.0f} "
              f"{statistics.median(r['api_calls'] for r in runs):>10.0f}")
    for name, runs in results.items():
        print(f"most called in the {name}: " + ", ".join(f"{k} {v}" for k, v in runs[0]["top"]))


if __name__ == "__main__":
    main()
