"""Benchmark the web image: bake time, and a fresh instance's boot to its first 200 on /health.

Usage: .venv/bin/python benchmarks/bake_boot.py [--boots N]

On the local environment: a private AWS emulator, playbooks/bake_ami.yml with a forced
bake (podman builder), then N boots of a container from the baked image, each given the
stack's location as the user data would write it, timed from `podman start` to the first
HTTP 200 from /health (systemd boot, shop-configure reading SSM and Secrets Manager, the
schema hook, PHP-FPM and nginx). MariaDB runs in a second container as the database.
Containers share the host's network, as in the Molecule scenario; port 80 and 3306 must be free.
Needs podman and the base image: ./scripts/containers.sh.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from helpers import Emulator, free_port, run_playbook  # noqa: E402

PROJECT = "benchbake"
STACK = f"{PROJECT}-local"
REPOSITORY = "localhost/shop-web-bench"
ENV = dict(os.environ, CONTAINERS_CONF=str(ROOT / "tools/podman/containers.conf"))
DB_PASSWORD = "bench-only-password-1"  # noqa: S105 - a throwaway database in a throwaway container


def podman(*args: str, check: bool = True) -> str:
    result = subprocess.run(["podman", *args], capture_output=True, text=True, env=ENV, check=False)
    if check and result.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout.strip()


def wait_health(deadline: float) -> float:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen("http://127.0.0.1/health", timeout=2) as response:  # noqa: S310 - our own container
                if response.status == 200:
                    return time.monotonic()
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.1)
    raise TimeoutError("no 200 from /health within the deadline")


def start_database() -> None:
    podman("rm", "-f", "--ignore", "bench-db", check=False)
    podman("run", "-d", "--name", "bench-db", "--network", "host", "--systemd", "always", "localhost/shop-debian:12", "/sbin/init")
    time.sleep(2)
    setup = ("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mariadb-server"
             " >/dev/null && systemctl start mariadb && mysql -e \"CREATE DATABASE IF NOT EXISTS shop CHARACTER SET utf8mb4;"
             f" CREATE USER IF NOT EXISTS 'shop'@'127.0.0.1' IDENTIFIED BY '{DB_PASSWORD}';"
             " GRANT ALL ON shop.* TO 'shop'@'127.0.0.1';\"")
    podman("exec", "bench-db", "sh", "-c", setup)


def publish_settings(emulator: Emulator) -> None:
    emulator.client("secretsmanager").create_secret(Name=f"{STACK}/db", SecretString=json.dumps(
        {"engine": "mysql", "username": "shop", "password": DB_PASSWORD, "host": "127.0.0.1", "port": 3306, "dbname": "shop"}))
    ssm = emulator.client("ssm")
    for key, value in {"db-secret-name": f"{STACK}/db", "region": "us-east-1"}.items():
        ssm.put_parameter(Name=f"/{STACK}/app/{key}", Value=value, Type="String", Overwrite=True)


def boot_once(image: str, stack_env: Path) -> float:
    podman("rm", "-f", "--ignore", "bench-web", check=False)
    podman("create", "--name", "bench-web", "--network", "host", "--systemd", "always", "--memory", "1g", image, "/sbin/init")
    podman("cp", str(stack_env), "bench-web:/etc/shop/stack.env")
    started = time.monotonic()
    podman("start", "bench-web")
    ready = wait_health(started + 120)
    podman("rm", "-f", "bench-web")
    return ready - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boots", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bake-bench-") as tmp:
        emulator = Emulator(port=free_port(), state_dir=Path(tmp) / "emulator")
        emulator.start()
        try:
            extra = {"stack_project": PROJECT, "web_image_force": True, "web_image_container_repository": REPOSITORY}
            started = time.monotonic()
            run = run_playbook(emulator, "playbooks/bake_ami.yml", extra=extra, timeout=1800)
            bake_seconds = time.monotonic() - started
            if run.rc != 0:
                print(run.output[-4000:], file=sys.stderr)
                return 1
            ami = emulator.client("ssm").get_parameter(Name=f"/{STACK}/web/ami-id")["Parameter"]["Value"]
            rerun_started = time.monotonic()
            rerun = run_playbook(emulator, "playbooks/bake_ami.yml", extra={**extra, "web_image_force": False})
            rerun_seconds = time.monotonic() - rerun_started
            size_mb = int(podman("image", "inspect", "--format", "{{.Size}}", f"{REPOSITORY}:{ami}")) / 1e6

            start_database()
            publish_settings(emulator)
            stack_env = Path(tmp) / "stack.env"
            stack_env.write_text(f"SHOP_STACK={STACK}\nSHOP_REGION=us-east-1\nSHOP_SETTINGS_PATH=/{STACK}/app/\n"
                                 f"SHOP_AWS_ENDPOINT_URL={emulator.url}\nAWS_ACCESS_KEY_ID=testing\nAWS_SECRET_ACCESS_KEY=testing\n")
            boots = [boot_once(f"{REPOSITORY}:{ami}", stack_env) for _ in range(args.boots)]
        finally:
            podman("rm", "-f", "--ignore", "bench-web", "bench-db", check=False)
            run_playbook(emulator, "playbooks/destroy.yml", "--tags", "role::web_image",
                         extra={"stack_project": PROJECT, "web_image_container_repository": REPOSITORY})
            emulator.stop()
    print(f"bake (forced, podman builder, apt from the Debian mirror): {bake_seconds:.1f} s")
    print(f"re-run with the same inputs (no bake): {rerun_seconds:.1f} s, changed={rerun.recap['changed']}")
    print(f"image {ami}: {size_mb:.0f} MB")
    print(f"boot to first 200 on /health over {len(boots)} boots: median {statistics.median(boots):.2f} s, "
          f"min {min(boots):.2f} s, max {max(boots):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
