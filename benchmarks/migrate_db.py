"""Benchmark of playbooks/migrate_db.yml: mysqldump against mydumper, and the cutover's window.

Real servers in podman (tests/migration_lab.py: MariaDB 10.11 source and an RDS stand-in, a
migration host), the shop's schema seeded with --orders orders (two items each), the target's
secret in the emulator. For each tool, a dump-mode migration (no cutover) from an empty
target; the figures are the playbook's own (the dump's and the load's lines):

    tool       rows    MiB  dump s  load s  rows/s  MiB/s  verify+rest s  total s

then a replication-mode migration with cutover while a shop writes to the source all along,
which gives the write-unavailable window (source read-only until the application's setting
names RDS), how many of the shop's writes were refused in it, and what the cutover's
verification compared again (the chunks written since the verification taken while writable).

    python benchmarks/migrate_db.py [--orders 1000000] [--threads 4] [--parallel 4]

--parallel: mydumper's tables loading at once (migrate_db_load_parallel; at most the host's cores).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from helpers import Emulator, free_port, podman, run_playbook  # noqa: E402
from migration_lab import Lab, Shop  # noqa: E402

DUMP_LINE = re.compile(r"dump \((\w+)\): ([\d.]+) MiB in (\d+) s .*done")
LOAD_LINE = re.compile(r"load \((\w+)[^)]*\): .*?([\d.]+)\s+MiB in ([\d.]+) s", re.S)


class CpuSampler:
    """CPU the lab's containers use while a run goes on (cgroup v1 cpuacct, read on this machine
    every second): the busiest 5 s of each, in cores, shows which one the copy waits for."""

    def __init__(self, lab):
        self.paths = {}
        for role, name in lab.containers.items():
            ident = podman("inspect", "-f", "{{.Id}}", name, check=True).stdout.strip()
            matches = glob.glob(f"/sys/fs/cgroup/cpuacct/**/libpod-{ident}/cpuacct.usage", recursive=True)
            if matches:
                self.paths[role] = matches[0]
        self.samples: list[tuple[float, dict]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _read(self) -> dict:
        return {role: int(Path(path).read_text()) for role, path in self.paths.items()}

    def _run(self):
        while not self._stop.is_set():
            self.samples.append((time.monotonic(), self._read()))
            self._stop.wait(1)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def busiest(self, window: int = 5) -> dict:
        """Each container's highest average cores over `window` seconds."""
        peaks = {}
        for role in self.paths:
            best = 0.0
            for (t0, a), (t1, b) in zip(self.samples, self.samples[window:], strict=False):
                best = max(best, (b[role] - a[role]) / 1e9 / (t1 - t0))
            peaks[role] = best
        return peaks


def migrate(emulator, lab, workdir: Path, *args, **variables):
    inventory = lab.inventory(workdir)
    extra = lab.variables(migrate_db_report_dir=str(workdir / "reports"), migrate_db_definers="rewrite", **variables)
    started = time.monotonic()
    run = run_playbook(emulator, "playbooks/migrate_db.yml", "-i", str(inventory), *args, extra=extra, timeout=7200)
    if run.rc != 0:
        raise SystemExit(f"migrate_db.yml failed:\n{run.output[-4000:]}")
    report = json.loads(sorted((workdir / "reports").glob("*/report.json"))[-1].read_text())
    return run.output, time.monotonic() - started, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--parallel", type=int, default=4)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-migrate-") as tmp:
        workdir = Path(tmp)
        emulator = Emulator(port=free_port(), state_dir=workdir / "emulator")
        lab = Lab(prefix=f"bench-migrate-{os.getpid()}")
        emulator.start()
        try:
            started = time.monotonic()
            lab.start(orders=args.orders)
            counts = lab.counts("source")
            rows = sum(counts.values())
            print(f"seeded {args.orders} orders ({rows} rows in {len(counts)} tables) in {time.monotonic() - started:.0f} s; "
                  f"machine: {os.cpu_count()} cores", flush=True)
            emulator.client("secretsmanager").create_secret(Name="shop-local/db", SecretString=json.dumps(lab.target_secret()))

            busiest = {}
            print(f"\n{'tool':10} {'rows':>9} {'MiB':>7} {'dump s':>7} {'load s':>7} {'rows/s':>8} {'MiB/s':>6} "
                  f"{'verify+rest s':>14} {'total s':>8}")
            for tool in ("mysqldump", "mydumper"):
                lab.reset_target()
                with CpuSampler(lab) as cpu:
                    output, total, report = migrate(emulator, lab, workdir, migrate_db_tool=tool, migrate_db_threads=args.threads,
                                                    migrate_db_load_parallel=args.parallel)
                busiest[tool] = cpu.busiest()
                assert report["verification"]["match"], "verification failed"
                _, mib, dump_s = DUMP_LINE.findall(output)[-1]
                _, load_mib, load_s = LOAD_LINE.findall(output)[-1]
                copy_s = float(dump_s) + float(load_s)
                print(f"{tool:10} {rows:>9} {float(mib):>7.1f} {float(dump_s):>7.1f} {float(load_s):>7.1f} "
                      f"{rows / copy_s:>8.0f} {float(mib) / copy_s:>6.1f} {total - copy_s:>14.1f} {total:>8.1f}", flush=True)

            print("busiest 5 s of each container (cores of this machine's "
                  f"{os.cpu_count()}): " + "; ".join(f"{tool}: " + ", ".join(f"{role} {cores:.2f}" for role, cores in peaks.items())
                                                    for tool, peaks in busiest.items()), flush=True)

            lab.reset_target()
            shop = Shop(lab)
            shop.start()
            try:
                _, total, report = migrate(emulator, lab, workdir, migrate_db_mode="replication", migrate_db_cutover=True,
                                           migrate_db_threads=args.threads, migrate_db_load_parallel=args.parallel)
            finally:
                writes = shop.stop()
            assert report["verification"]["match"], "verification failed"
            lab.sql("source", "SET GLOBAL read_only = OFF")
            recheck = report["verification"]["recheck"]
            print(f"\ncutover (replication mode, mydumper, the shop writing every ~0.1 s): write-unavailable window "
                  f"{report['window_seconds']:.2f} s (source read-only until {report['stack']}'s setting names RDS); "
                  f"shop writes kept: {writes['ok']}, refused once read-only: {writes['refused']}; run {total:.0f} s\n"
                  f"in the window: {recheck['chunks_compared']} of {recheck['chunks']} chunk(s) compared again "
                  f"({recheck['rows_changed']} row change(s) in the binary logs; every chunk: {recheck['every_chunk']}); "
                  f"catch-up {recheck['seconds']['catch_up']} s, binary logs {recheck['seconds']['binary_logs']} s, "
                  f"compare {recheck['seconds']['compare']} s", flush=True)
        finally:
            lab.stop()
            emulator.stop()


if __name__ == "__main__":
    main()
