"""The local stack's whole lifecycle on the emulator in realistic mode (tools/emulator/realism.py):
resources take their time (at 1/20 of AWS's), EC2's token buckets throttle, a few requests
are throttled at random and a quarter of the idempotent creates lose their answer.

One story, as an operator meets it: a converge is started; a second one is refused while the
first holds the stack; the first is interrupted with Ctrl-C while RDS is still creating; a
third is killed outright (SIGKILL) while the fleet is being built; the next run takes the
stale lock over and converges with nothing made twice; a re-run changes nothing (a check run
in realistic mode: test_site_production's); the teardown leaves nothing billable."""

import os
import signal
import subprocess
import time

import pytest
from billable import billable_resources, stack_inventory
from helpers import ROOT, VENV_BIN, run_playbook

pytestmark = pytest.mark.integration
STACK = "shop-local"
REGION = "us-east-1"
# What inventories/local plans: one NAT gateway shared by two AZs, three subnet tiers...
PLANNED = {"vpcs": 1, "subnets": 6, "internet_gateways": 1, "nat_gateways": 1, "elastic_ips": 1, "route_tables": 4,
           "security_groups": 4, "vpc_endpoints": 1, "flow_logs": 0, "launch_templates": 1, "load_balancers": 1,
           "target_groups": 1, "db_instances": 1, "cache_clusters": 2, "distributions": 1, "auto_scaling_groups": 1,
           "queues": 2, "kms_keys": 1, "budgets": 1}


def start_site(emulator, log):
    """site.yml in the background, as a user starts it in a terminal."""
    command = [str(VENV_BIN / "ansible-playbook"), "site.yml", "-i", "inventories/local",
               "-e", f'{{"aws_endpoint_url": "{emulator.url}"}}']
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", PATH=f"{VENV_BIN}:{os.environ['PATH']}", AWS_URL=emulator.url,
               ANSIBLE_INVENTORY_CACHE_CONNECTION=str(emulator.state_dir / "inventory-cache"))
    return subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)


def wait_for(condition, what, process, timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        assert process.poll() is None, f"the run ended (rc {process.returncode}) before {what}"
        time.sleep(0.5)
    raise AssertionError(f"no {what} within {timeout} s")


def lock_holder(emulator):
    ssm = emulator.client("ssm", REGION)
    try:
        return ssm.get_parameter(Name=f"/{STACK}/lock")["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return None


def test_interrupted_and_concurrent_runs_then_the_whole_lifecycle(realistic, tmp_path):
    rds = realistic.client("rds", REGION)
    autoscaling = realistic.client("autoscaling", REGION)

    with open(tmp_path / "first.log", "w") as log:
        first = start_site(realistic, log)
        wait_for(lambda: lock_holder(realistic) is not None, "lock taken", first)
        # A second converge of the same stack while the first holds it: refused at once.
        second = run_playbook(realistic, "site.yml", timeout=120)
        assert second.rc != 0
        assert "The stack is locked by " in second.output
        assert "since" in second.output and "Another run is changing this stack: nothing was changed" in second.output
        assert "playbooks/unlock.yml" in second.output
        # Ctrl-C while RDS is still creating (the NAT gateway pending or just available).
        wait_for(lambda: rds.describe_db_instances()["DBInstances"], "DB instance", first)
        assert rds.describe_db_instances()["DBInstances"][0]["DBInstanceStatus"] != "available"
        assert first.poll() is None, f"the run ended (rc {first.returncode}) before the interrupt"
        first.send_signal(signal.SIGINT)
        try:
            first.wait(timeout=10)
        except subprocess.TimeoutExpired:
            # ansible-core 2.19 sometimes stops only the running task on Ctrl-C and goes on
            # (ansible/ansible#86078): the user presses it again, which ends the run.
            first.send_signal(signal.SIGINT)
            first.wait(timeout=120)
    assert first.returncode != 0, (tmp_path / "first.log").read_text()[-6000:]

    with open(tmp_path / "third.log", "w") as log:
        third = start_site(realistic, log)
        wait_for(lambda: autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"], "Auto Scaling group", third)
        third.send_signal(signal.SIGKILL)  # no chance to release the lock
        third.wait(timeout=60)
    assert lock_holder(realistic) is not None, "a killed run cannot have released its lock"

    converged = run_playbook(realistic, "site.yml", timeout=1200)
    assert converged.rc == 0, converged.output[-6000:]
    assert "Took over the stale lock" in converged.output
    assert lock_holder(realistic) is None
    assert stack_inventory(realistic, REGION, STACK) == PLANNED

    realism = realistic.stats()["realism"]
    assert realism["throttled"] > 0
    assert realism["lost"] > 0 and realism["replayed"] > 0

    again = run_playbook(realistic, "site.yml", timeout=1200)
    assert again.rc == 0 and again.recap["changed"] == 0, again.output[-6000:]
    assert stack_inventory(realistic, REGION, STACK) == PLANNED

    destroyed = run_playbook(realistic, "playbooks/destroy.yml", timeout=1200)
    assert destroyed.rc == 0, destroyed.output[-6000:]
    assert billable_resources(realistic, REGION) == {}
    assert lock_holder(realistic) is None


def test_unlock_breaks_only_the_named_lock(realistic):
    ssm = realistic.client("ssm", REGION)
    held = '{"id": "held-elsewhere", "user": "ops", "host": "runner-9", "pid": 1, ' \
           '"since": "2026-12-01T10:00:00Z", "expires": "2999-01-01T00:00:00Z"}'
    ssm.put_parameter(Name=f"/{STACK}/lock", Value=held, Type="String", Overwrite=True)
    refused = run_playbook(realistic, "site.yml", timeout=300)
    assert refused.rc != 0 and "locked by ops@runner-9 (process 1)" in refused.output
    assert "-e stack_lock_id=held-elsewhere" in refused.output

    wrong = run_playbook(realistic, "playbooks/unlock.yml", extra={"stack_lock_id": "another-id"}, timeout=300)
    assert wrong.rc != 0 and lock_holder(realistic) == held
    assert "locked by ops@runner-9" in wrong.output and "nothing was changed" in wrong.output
    missing = run_playbook(realistic, "playbooks/unlock.yml", timeout=300)
    assert missing.rc != 0 and "stack_lock_id is required" in missing.output

    broken = run_playbook(realistic, "playbooks/unlock.yml", extra={"stack_lock_id": "held-elsewhere"}, timeout=300)
    assert broken.rc == 0, broken.output[-4000:]
    assert lock_holder(realistic) is None

