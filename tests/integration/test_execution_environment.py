"""The execution environment (execution-environment.yml, built by scripts/build_ee.sh): site.yml
runs inside it as AWX runs a job template (ansible-runner with the image, the project checked out
in /runner/project, the collections the image holds) against the emulator, and the stack
converges."""

import json
import shutil
import subprocess

import pytest
from helpers import ROOT, VENV_BIN, podman

pytestmark = pytest.mark.integration
IMAGE = "localhost/shop-ee:1.0.0"
STACK = "shop-local"


def project_checkout(destination):
    """What AWX's project sync leaves: the repository's tracked files."""
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        if (ROOT / name).is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, destination / name)


def test_site_converges_inside_the_execution_environment(emulator, tmp_path):
    assert podman("image", "exists", IMAGE).returncode == 0, f"{IMAGE} is missing: run scripts/build_ee.sh"
    emulator.reset()
    private = tmp_path / "runner"
    project_checkout(private / "project")
    # The job's inventory (AWX writes it to /runner/inventory): the local one, group_vars included.
    shutil.copytree(private / "project/inventories/local", private / "inventory")
    (private / "env").mkdir()
    (private / "env" / "extravars").write_text(json.dumps(
        {"aws_endpoint_url": emulator.url, "aws_access_key": "testing", "aws_secret_key": "testing"}))
    # The dynamic inventory's credentials, as an AWX credential would inject them.
    (private / "env" / "envvars").write_text(json.dumps(
        {"AWS_URL": emulator.url, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}))
    # Runner and podman run as root here, so the job's folder is root's: the container runs as
    # root too (AWX's rootless podman maps the folder's owner into the image's user instead).
    command = [str(VENV_BIN / "ansible-runner"), "run", str(private), "--playbook", "site.yml", "--process-isolation",
               "--process-isolation-executable", "podman", "--container-image", IMAGE,
               "--container-option=--network=host", "--container-option=--user=0"]
    env = {"PATH": f"{VENV_BIN}:/usr/bin:/bin", "HOME": str(tmp_path),
           "CONTAINERS_CONF": str(ROOT / "tools/podman/containers.conf")}
    run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1200)
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-2000:]
    assert "failed=0" in run.stdout and "cloudfront_domain:" in run.stdout

    # The roles ran from the collection the image holds, not from the checkout.
    events = [json.loads(path.read_text()) for path in (private / "artifacts").glob("*/job_events/*.json")]
    task_paths = {event.get("event_data", {}).get("task_path", "") for event in events}
    assert any(path.startswith("/usr/share/ansible/collections/ansible_collections/shop/aws/roles/network/")
               for path in task_paths), sorted(task_paths)[:10]

    ec2 = emulator.client("ec2")
    assert len(ec2.describe_vpcs(Filters=[{"Name": "tag:Stack", "Values": [STACK]}])["Vpcs"]) == 1
    groups = emulator.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[f"{STACK}-web"])
    assert len(groups["AutoScalingGroups"]) == 1
