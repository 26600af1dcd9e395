"""Which IAM actions each role calls: the deployer's lifecycle run role by role on the emulator.

    .venv/bin/python tools/iam_actions.py            # compare with every role's meta/iam.yml
    .venv/bin/python tools/iam_actions.py --write    # and write what was called into them

An emulator of its own (a free port) records each request's IAM action (tools/emulator/access.py);
the lifecycle runs one role at a time (``--tags role::<name>``, each role's part of build, bake,
rolling update, origin secret rotation, static release, database restore and destroy) so what a run called is its
role's. The stack lock's and outputs' calls, made by every run, are recorded first and belong
to stack_lock and stack_lookup. Roles declare what they need in ``roles/<role>/meta/iam.yml``
(``iam_actions``); ``iam_actions_unexercised`` lists, with why, what AWS needs but the emulator
never asks for, and is kept as it is. playbooks/deployer_policy.yml renders the policy from them;
tests/integration/test_least_privilege.py proves it.

Needs podman and the base image (the bake's builder): scripts/containers.sh. Takes ~10 minutes.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import socket
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = ROOT / ".venv/bin"
PROJECT = "iamrecord"
EXTRA = {"stack_project": PROJECT, "web_image_keep": 1, "web_image_container_repository": "localhost/shop-web-iamrecord"}
BUILD_ORDER = ["network", "security", "database", "cache", "loadbalancer", "cdn", "messaging", "compute", "monitoring"]
DESTROY_ORDER = ["monitoring", "compute", "web_image", "cdn", "cache", "database", "loadbalancer", "messaging",
                 "security", "network"]
HEADER = """---
# The AWS actions (IAM names) this role's tasks call: playbooks/deployer_policy.yml renders the
# deployer's policy from every role's. tools/iam_actions.py records them from a lifecycle run
# (--write rewrites iam_actions); tests/integration/test_least_privilege.py runs the lifecycle
# with only them allowed. iam_actions_unexercised: needed on AWS, never asked for by the emulator.
"""


class Emulator:
    def __init__(self, state_dir: Path):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.state_dir = state_dir
        self.url = f"http://127.0.0.1:{self.port}"

    def cli(self, command: str) -> None:
        subprocess.run([sys.executable, str(ROOT / "tools/emulator/awsemu.py"), command, "--port", str(self.port),
                        "--state-dir", str(self.state_dir)], check=True, capture_output=True)

    def publish_image(self, parameter: str, region: str) -> None:
        """What bake_ami.yml leaves for the compute role: the image's ID in SSM (the emulator's
        Amazon Linux image), written with the root key."""
        import boto3

        ssm = boto3.client("ssm", endpoint_url=self.url, region_name=region, aws_access_key_id="testing",
                           aws_secret_access_key="testing")
        image = ssm.get_parameter(Name="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")
        ssm.put_parameter(Name=parameter, Value=image["Parameter"]["Value"], Type="String", Overwrite=True)
        self.used()

    def backup_now(self, stack: str, region: str) -> None:
        """What the daily backup plan leaves for a restore: a recovery point of the DB instance (an
        on-demand backup job, with the root key)."""
        import boto3

        session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)
        instance = session.client("rds", endpoint_url=self.url).describe_db_instances(
            DBInstanceIdentifier=f"{stack}-mysql")["DBInstances"][0]
        account = instance["DBInstanceArn"].split(":")[4]
        session.client("backup", endpoint_url=self.url).start_backup_job(
            BackupVaultName=f"{stack}-backup", ResourceArn=instance["DBInstanceArn"],
            IamRoleArn=f"arn:aws:iam::{account}:role/{stack}-backup")
        self.used()

    def used(self, clear: bool = True) -> set[str]:
        with urllib.request.urlopen(f"{self.url}/_emulator/iam", timeout=10) as answer:
            listing = json.loads(answer.read())
        if clear:
            request = urllib.request.Request(f"{self.url}/_emulator/iam", data=b'{"clear": true}', method="POST",
                                             headers={"Content-Type": "application/json"})
            urllib.request.urlopen(request, timeout=10).read()
        return {action for actions in listing["used"].values() for action in actions}


def run(emulator: Emulator, playbook: str, *args: str, inventory: str = "local", extra: dict | None = None) -> None:
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", PATH=f"{VENV_BIN}:{os.environ['PATH']}", AWS_URL=emulator.url,
               AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               CONTAINERS_CONF=str(ROOT / "tools/podman/containers.conf"),
               ANSIBLE_INVENTORY_CACHE_CONNECTION=str(emulator.state_dir / "inventory-cache"))
    connection = {"aws_endpoint_url": emulator.url, "aws_access_key": "testing", "aws_secret_key": "testing"}
    command = [str(VENV_BIN / "ansible-playbook"), playbook, "-i", f"inventories/{inventory}", "-e", json.dumps(connection),
               "-e", json.dumps({**EXTRA, **(extra or {})}), *args]
    print(f"# {inventory}: {' '.join([playbook, *args])}", flush=True)
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, timeout=1800)
    if done.returncode != 0:
        log = (emulator.state_dir / "emulator.log").read_text(errors="replace")
        raise SystemExit(f"{playbook} {' '.join(args)} failed (rc {done.returncode}):\n{(done.stdout + done.stderr)[-4000:]}\n"
                 f"# the emulator's log ends:\n{log[-4000:]}")


def record(emulator: Emulator, phase: str) -> dict[str, set[str]]:
    """Each role's actions in a phase: what its runs called beyond the lock's and the outputs'.
    local: the lifecycle on inventories/local; production: a build and a destroy of
    inventories/production (flow logs, three NAT gateways, deletion protection, promotions...)."""
    inventory = phase
    # A destroy after a static release deletes the files with the bucket, as an operator would ask.
    extra = {"destroy_confirm": f"{PROJECT}-{phase}", "cdn_force_destroy": True}
    if phase == "production":  # stand in for a bake: the image the fleet boots, published
        emulator.publish_image(f"/{PROJECT}-production/web/ami-id", "eu-west-1")
    seen: dict[str, set[str]] = {}
    run(emulator, "playbooks/outputs.yml", inventory=inventory)
    seen["stack_lookup"] = emulator.used()
    # Only the always-tagged tasks: validation, lock, release, outputs.
    run(emulator, "site.yml", "--tags", "iam-record-none", inventory=inventory)
    seen["stack_lock"] = emulator.used() - seen["stack_lookup"]
    common = seen["stack_lookup"] | seen["stack_lock"]

    def add(role: str, *runs: tuple[str, ...]) -> None:
        for playbook, *args in runs:
            run(emulator, playbook, *args, inventory=inventory, extra=extra)
            seen.setdefault(role, set()).update(emulator.used() - common)

    # The prerequisite check reads the web image before the build: the compute role's.
    for role in BUILD_ORDER:  # each built, then converged again (a re-run reads what it made)
        add(role, ("site.yml", "--tags", f"role::{role}"), ("site.yml", "--tags", f"role::{role}"))
    add("stack_lookup", ("playbooks/outputs.yml",))
    if phase == "local":
        add("web_image", ("playbooks/bake_ami.yml",))
        add("rollout", ("playbooks/rolling_update.yml",))
        add("loadbalancer", ("playbooks/rotate_origin_secret.yml",))
        add("cache", ("playbooks/rotate_cache_token.yml",))
        add("database", ("playbooks/rotate_db_password.yml",))
        add("cdn", ("playbooks/release_static.yml",))
        emulator.backup_now(f"{PROJECT}-local", "us-east-1")
        add("database", ("playbooks/restore_db.yml", "-e", "restore_db_verify=false"),
            ("playbooks/restore_db.yml", "-e", "restore_db_verify=false"),
            ("playbooks/restore_db.yml", "-e", "restore_db_discard=true"))
    add("unattributed", ("site.yml",))  # a whole re-run: anything a role-by-role run missed
    for role in DESTROY_ORDER if phase == "local" else [r for r in DESTROY_ORDER if r != "web_image"]:
        add(role, ("playbooks/destroy.yml", "--tags", f"role::{role}"))
    add("unattributed", ("playbooks/destroy.yml",))
    # The roles read the stack through stack_lookup and take the lock through stack_lock: those
    # actions are theirs. What a whole run called that no role's own runs did stays unattributed.
    shared = seen["stack_lookup"] | seen["stack_lock"]
    for role in seen:
        if role not in ("stack_lookup", "stack_lock"):
            seen[role] -= shared
    seen["unattributed"] -= set().union(*(actions for role, actions in seen.items() if role != "unattributed"))
    return seen


def declared(role: str) -> dict:
    path = ROOT / "roles" / role / "meta/iam.yml"
    return yaml.safe_load(path.read_text()) if path.exists() else {}


def write(role: str, actions: set[str]) -> None:
    kept = declared(role).get("iam_actions_unexercised") or {}
    body = {"iam_actions": sorted(actions)}
    if kept:
        body["iam_actions_unexercised"] = kept
    text = HEADER + yaml.safe_dump(body, sort_keys=False, default_flow_style=False, width=120, indent=2)
    (ROOT / "roles" / role / "meta/iam.yml").write_text(text.replace("\n- ", "\n  - "))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="write the recorded actions into roles/*/meta/iam.yml")
    parser.add_argument("--phases", default="local,production",
                        help="local (the lifecycle), production (a build and a destroy), or both (the default); "
                             "with one, --write adds to what the roles declare")
    options = parser.parse_args()
    phases = [phase.strip() for phase in options.phases.split(",")]
    if not set(phases) <= {"local", "production"}:
        parser.error(f"--phases: local, production or both (got {options.phases})")
    def recorded(phase: str) -> dict[str, set[str]]:
        with tempfile.TemporaryDirectory(prefix="iam-actions-") as state:
            emulator = Emulator(Path(state))
            emulator.cli("start")
            try:
                return record(emulator, phase)
            finally:
                emulator.cli("stop")

    seen: dict[str, set[str]] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(phases)) as pool:  # an emulator each
        for part in pool.map(recorded, phases):
            for role, actions in part.items():
                seen.setdefault(role, set()).update(actions)
    if len(phases) < 2:  # a part of the record: what the roles declare stays
        for role in {p.parent.parent.name for p in (ROOT / "roles").glob("*/meta/iam.yml")}:
            seen.setdefault(role, set()).update(declared(role).get("iam_actions") or [])
    differs = 0
    for role in sorted(seen):
        have = set(declared(role).get("iam_actions") or [])
        missing, unused = sorted(seen[role] - have), sorted(have - seen[role])
        print(f"{role}: {len(seen[role])} called" + (f"; not declared: {', '.join(missing)}" if missing else "")
              + (f"; declared, not called: {', '.join(unused)}" if unused else ""))
        differs += bool(missing or unused)
        if options.write and role != "unattributed" and seen[role]:
            write(role, seen[role])
    if seen.get("unattributed"):
        print("unattributed (called only by a whole run; add them to the role that calls them):",
              ", ".join(sorted(seen["unattributed"])))
    return 1 if differs and not options.write else 0


if __name__ == "__main__":
    sys.exit(main())
