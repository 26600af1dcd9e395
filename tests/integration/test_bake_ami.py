"""playbooks/bake_ami.yml on the local environment: a podman container is the builder, the
emulator records the AMI, the container image is tagged with the AMI ID. Needs podman and
the base image (scripts/containers.sh, run by scripts/test.sh before pytest)."""

import json
import subprocess

import pytest
from helpers import ROOT, podman, run_playbook

pytestmark = pytest.mark.integration

# A stack of its own, so the test never touches the images of a user's local bake.
PROJECT = "baketest"
STACK = f"{PROJECT}-local"
REPOSITORY = "localhost/shop-web-test"
BUILDER = f"{STACK}-image-builder"
EXTRA = {"stack_project": PROJECT, "web_image_keep": 1, "web_image_container_repository": REPOSITORY}
def bake(emulator, **extra):
    return run_playbook(emulator, "playbooks/bake_ami.yml", extra={**EXTRA, **extra}, timeout=1200)


def images(ec2):
    found = ec2.describe_images(Owners=["self"], Filters=[{"Name": "tag:Stack", "Values": [STACK]},
                                                        {"Name": "tag:Role", "Values": ["web-image"]}])["Images"]
    return sorted(found, key=lambda image: image["CreationDate"])


def published(emulator):
    return emulator.client("ssm").get_parameter(Name=f"/{STACK}/web/ami-id")["Parameter"]["Value"]


def builder_instances(ec2, states=("pending", "running", "stopping", "stopped")):
    reservations = ec2.describe_instances(Filters=[{"Name": "tag:Stack", "Values": [STACK]},
                                                   {"Name": "tag:Role", "Values": ["web-image-builder"]},
                                                   {"Name": "instance-state-name", "Values": list(states)}])
    return [i for r in reservations["Reservations"] for i in r["Instances"]]


@pytest.fixture(scope="module")
def ec2(emulator):
    return emulator.client("ec2")


@pytest.fixture(scope="module")
def first(emulator, ec2):
    emulator.reset()
    run = bake(emulator)
    assert run.rc == 0, run.output[-5000:]
    baked = images(ec2)
    assert len(baked) == 1
    yield baked[0]
    run = run_playbook(emulator, "playbooks/destroy.yml", "--tags", "role::web_image", extra=EXTRA)
    assert run.rc == 0, run.output[-3000:]
    assert images(ec2) == []
    assert podman("images", "--filter", f"reference={REPOSITORY}", "--format", "{{.Tag}}").stdout.strip() == ""


def test_image_is_tagged_with_version_commit_date_and_inputs(first):
    tags = {t["Key"]: t["Value"] for t in first["Tags"]}
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert tags["GitCommit"] == commit
    version = (ROOT / "app/demo-shop/VERSION").read_text().strip()
    assert tags["Version"] == f"{version}-{tags['InputsDigest'][:10]}"
    assert tags["BuiltAt"].endswith("Z") and tags["BuiltAt"][:4].isdigit()
    assert tags["Project"] == PROJECT and tags["ManagedBy"] == "ansible-shop-toolkit"
    assert first["Name"].startswith(f"{STACK}-web-{tags['Version']}-")


def test_ami_id_published_for_the_compute_role(emulator, first):
    assert published(emulator) == first["ImageId"]


def test_container_image_tagged_with_the_ami_id(first):
    inspect = podman("image", "inspect", f"{REPOSITORY}:{first['ImageId']}")
    assert inspect.returncode == 0, inspect.stderr
    labels = json.loads(inspect.stdout)[0]["Labels"]
    assert labels["shop.ami-id"] == first["ImageId"]
    assert labels["shop.stack"] == STACK
    tags = {t["Key"]: t["Value"] for t in first["Tags"]}
    assert tags["ContainerImage"] == f"{REPOSITORY}:{first['ImageId']}"


def test_container_image_is_the_configured_and_cleaned_web_stack(first):
    script = ("test -L /srv/shop/current && test -x /usr/local/sbin/shop-configure"
              " && systemctl is-enabled shop-configure nginx php8.2-fpm"
              " && test ! -s /etc/machine-id && test ! -e /etc/shop/app.json && test ! -e /root/.ansible")
    check = podman("run", "--rm", "--entrypoint", "/bin/sh", f"{REPOSITORY}:{first['ImageId']}", "-c", script)
    assert check.returncode == 0, check.stdout + check.stderr


def test_builder_is_gone(ec2, first):
    assert builder_instances(ec2) == []
    assert podman("container", "exists", BUILDER).returncode == 1


def test_same_inputs_do_not_bake_again(emulator, ec2, first):
    run = bake(emulator)
    assert run.rc == 0, run.output[-5000:]
    assert run.recap["changed"] == 0
    assert "not baking" in run.output
    assert [i["ImageId"] for i in images(ec2)] == [first["ImageId"]]


def test_forced_bake_replaces_and_prunes_the_older_image(emulator, ec2, first):
    snapshot = first["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    run = bake(emulator, web_image_force=True)
    assert run.rc == 0, run.output[-5000:]
    (newer,) = images(ec2)  # web_image_keep: 1
    assert newer["ImageId"] != first["ImageId"]
    assert published(emulator) == newer["ImageId"]
    assert ec2.describe_snapshots(Filters=[{"Name": "snapshot-id", "Values": [snapshot]}])["Snapshots"] == []
    assert podman("image", "exists", f"{REPOSITORY}:{first['ImageId']}").returncode == 1
    assert podman("image", "exists", f"{REPOSITORY}:{newer['ImageId']}").returncode == 0


def test_failing_builder_takes_no_image_and_is_removed(emulator, ec2, first):
    before = [i["ImageId"] for i in images(ec2)]
    # A PHP version Debian 12 does not have: the builder fails in the web-stack role.
    run = bake(emulator, webstack_php_version="9.9")
    assert run.rc != 0
    assert "the builder failed, no image was taken" in run.output
    assert "php9.9-fpm" in run.output
    assert [i["ImageId"] for i in images(ec2)] == before
    assert published(emulator) == before[-1]
    assert builder_instances(ec2) == []
    assert podman("container", "exists", BUILDER).returncode == 1
