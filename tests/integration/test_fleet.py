"""The local fleet end to end: the dynamic inventory, rolling AMI updates (a successful one
sampled for healthy targets, a failing one rolled back) and the patch playbook stopping at a
failing instance. An emulator of its own runs the fleet: every instance of the web group is a
podman container of the image baked for its AMI (needs podman and scripts/containers.sh)."""

import concurrent.futures
import json
import math
import os
import subprocess
import threading
import time

import pytest
from helpers import (
    REALISTIC,
    ROOT,
    VENV_BIN,
    Emulator,
    derive_image,
    free_port,
    podman,
    register_container_ami,
    run_playbook,
)

pytestmark = pytest.mark.integration

PROJECT = "fleettest"
STACK = f"{PROJECT}-local"
GROUP = f"{STACK}-web"
REPOSITORY = "localhost/shop-web-fleettest"
EXTRA = {"stack_project": PROJECT, "compute_min_size": 2, "compute_desired_capacity": 3, "compute_max_size": 6,
         "web_image_container_repository": REPOSITORY, "messaging_enabled": False}
ENV = {"SHOP_STACK": STACK}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    # In realistic mode (helpers.REALISTIC): the bake and the rolling updates meet AWS's latencies,
    # throttling and lost answers as the build does.
    emulator = Emulator(port=free_port(), state_dir=tmp_path_factory.mktemp("fleet-emulator"), fleet=True,
                        options=REALISTIC)
    emulator.start()
    try:
        # The stack and the bake need nothing of each other: both at once.
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            runs = list(pool.map(lambda playbook: run_playbook(emulator, playbook, extra=EXTRA, env=ENV, timeout=1200),
                                 ("site.yml", "playbooks/bake_ami.yml")))
        for run in runs:
            assert run.rc == 0, run.output[-5000:]
        # The group booted the fallback image (no container); the first rollout brings the baked one.
        run = roll(emulator, rollout_max_healthy_percentage=200)
        assert run.rc == 0, run.output[-5000:]
        yield emulator
    finally:
        emulator.stop()
        tags = podman("images", "--filter", f"reference={REPOSITORY}", "--format", "{{.Repository}}:{{.Tag}}")
        for image in tags.stdout.split():
            podman("rmi", "-f", image)


def roll(emulator, **extra):
    return run_playbook(emulator, "playbooks/rolling_update.yml", extra={**EXTRA, **extra}, env=ENV, timeout=900)


def group(emulator) -> dict:
    return emulator.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[GROUP])["AutoScalingGroups"][0]


def in_service(emulator) -> list[dict]:
    return [i for i in group(emulator)["Instances"] if i["LifecycleState"] == "InService"]


def images_of(emulator, ids) -> set[str]:
    found = emulator.client("ec2").describe_instances(InstanceIds=list(ids))["Reservations"]
    return {i["ImageId"] for r in found for i in r["Instances"]}


def target_states(emulator) -> dict[str, str]:
    elb = emulator.client("elbv2")
    arn = elb.describe_target_groups(Names=[GROUP])["TargetGroups"][0]["TargetGroupArn"]
    return {d["Target"]["Id"]: d["TargetHealth"]["State"]
            for d in elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]}


def published(emulator) -> str:
    return emulator.client("ssm").get_parameter(Name=f"/{STACK}/web/ami-id")["Parameter"]["Value"]


def publish_derived_image(emulator, name: str, files: dict[str, str]) -> str:
    """A new 'AMI' for the group: the current image with some files changed, published as a bake would."""
    current = emulator.client("ec2").describe_images(ImageIds=[published(emulator)])["Images"][0]
    source = {t["Key"]: t["Value"] for t in current["Tags"]}["ContainerImage"]
    target = f"{REPOSITORY}:{name}"
    derive_image(source, target, files)
    ami = register_container_ami(emulator.client("ec2"), target, f"{STACK}-web-{name}", STACK)
    emulator.client("ssm").put_parameter(Name=f"/{STACK}/web/ami-id", Value=ami, Type="String", Overwrite=True)
    return ami


def fleet_containers(emulator) -> set[str]:
    found = podman("ps", "--filter", f"label=shop.emulator={emulator.port}", "--filter", "label=shop.kind=instance",
                   "--format", "{{.Names}}")
    return set(found.stdout.split())


def inventory(emulator) -> dict:
    proc = subprocess.run([str(VENV_BIN / "ansible-inventory"), "-i", "inventories/local", "--list", "--flush-cache"],
                          cwd=ROOT, capture_output=True, text=True, check=True,
                          env={**os.environ, "AWS_URL": emulator.url, "SHOP_STACK": STACK,
                               "ANSIBLE_INVENTORY_CACHE_CONNECTION": str(emulator.state_dir / "inventory-cache")})
    return json.loads(proc.stdout, object_hook=lambda d: d["__ansible_unsafe"] if set(d) == {"__ansible_unsafe"} else d)


def test_inventory_groups_the_running_fleet(fleet):
    found = inventory(fleet)
    ids = sorted(i["InstanceId"] for i in in_service(fleet))
    assert len(ids) == 3
    assert sorted(found["role_web"]["hosts"]) == ids
    assert sorted(found["env_local"]["hosts"]) == ids
    assert sorted(found[f"asg_{GROUP.replace('-', '_')}"]["hosts"]) == ids
    ami = published(fleet)
    assert sorted(found[f"ami_{ami.replace('-', '_')}"]["hosts"]) == ids
    version = group(fleet)["LaunchTemplate"]["Version"]
    assert sorted(found[f"lt_version_{version}"]["hosts"]) == ids
    zones = {h: found["_meta"]["hostvars"][h]["fleet_az"] for h in ids}
    for zone in set(zones.values()):
        assert sorted(found[f"az_{zone.replace('-', '_')}"]["hosts"]) == sorted(h for h, z in zones.items() if z == zone)
    assert len(set(zones.values())) == 2, zones  # spread over both AZs
    assert found["_meta"]["hostvars"][ids[0]]["ansible_connection"] == "containers.podman.podman"
    assert "localhost" not in found["role_web"]["hosts"]


def test_every_instance_is_a_container_of_its_ami_reached_by_ansible(fleet):
    ids = {i["InstanceId"] for i in in_service(fleet)}
    assert fleet_containers(fleet) == ids
    run = run_playbook(fleet, "playbooks/maintenance/command.yml",
                       extra={**EXTRA, "maintenance_command": ["systemctl", "is-active", "nginx", "php8.2-fpm"]}, env=ENV)
    assert run.rc == 0, run.output[-3000:]
    for instance_id in ids:
        assert f"ok: [{instance_id}]" in run.output


def test_rolling_update_keeps_the_minimum_healthy(fleet):
    before = {i["InstanceId"] for i in in_service(fleet)}
    ami = publish_derived_image(fleet, "v2", {"/etc/shop-image-version": "v2\n"})
    samples, stop = [], threading.Event()

    def sample():
        while not stop.is_set():
            samples.append(list(target_states(fleet).values()).count("healthy"))
            time.sleep(0.5)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        # Terminate-then-launch batches: one instance of three at a time may be out.
        run = roll(fleet, rollout_min_healthy_percentage=66, rollout_max_healthy_percentage=100)
    finally:
        stop.set()
        sampler.join()
    assert run.rc == 0, run.output[-5000:]
    assert "InProgress 33%" in run.output and "Successful 100%" in run.output
    minimum = math.ceil(3 * 66 / 100)
    assert len(samples) > 20 and min(samples) >= minimum, samples
    assert minimum in samples, samples  # the batches were seen: one instance out at a time
    after = {i["InstanceId"] for i in in_service(fleet)}
    assert len(after) == 3 and not after & before
    assert images_of(fleet, after) == {ami}
    assert set(target_states(fleet).items()) >= {(i, "healthy") for i in after}
    assert fleet_containers(fleet) == after


def test_failing_refresh_rolls_back_and_the_old_ami_keeps_serving(fleet):
    serving = published(fleet)
    version = group(fleet)["LaunchTemplate"]["Version"]
    current = podman("inspect", "--format", "{{.ImageName}}", next(iter(fleet_containers(fleet)))).stdout.strip()
    release = podman("run", "--rm", "--entrypoint", "readlink", current, "-f", "/srv/shop/current").stdout.strip()
    bad = publish_derived_image(fleet, "broken", {f"{release}/public/health.php": "<?php http_response_code(500);\n"})
    run = roll(fleet)
    assert run.rc != 0, run.output[-5000:]
    assert "ROLLOUT FAILED" in run.output and "RollbackSuccessful" in run.output, run.output[-5000:]
    after = in_service(fleet)
    assert len(after) == 3
    assert images_of(fleet, [i["InstanceId"] for i in after]) == {serving} != {bad}
    assert group(fleet)["LaunchTemplate"]["Version"] == version
    assert published(fleet) == serving
    states = target_states(fleet)
    assert all(states[i["InstanceId"]] == "healthy" for i in after), states


def test_patch_stops_at_the_failing_instance_and_leaves_the_others_in_service(fleet):
    ids = sorted(i["InstanceId"] for i in in_service(fleet))
    first, broken, last = ids
    # apt cannot update on this one: its patch fails after it left service.
    podman("exec", broken, "sh", "-c",
           "echo 'deb http://127.0.0.1:9/debian bookworm main' > /etc/apt/sources.list.d/broken.list", check=True)
    run = run_playbook(fleet, "playbooks/maintenance/patch.yml", extra={**EXTRA, "maintenance_reboot": False, "maintenance_apt_retries": 1},
                       env=ENV, timeout=900)
    assert run.rc != 0
    assert f"{broken} (" in run.output and "stays in Standby, out of service" in run.output
    upgraded = [line for line in run.output.split("TASK [")[1:] if line.startswith("shop.aws.maintenance : patch | Upgrade")]
    assert any(f"[{first}]" in block for block in upgraded)
    assert not any(f"[{last}]" in block for block in upgraded), "the run went on past the failing batch"
    lifecycle = {i["InstanceId"]: i["LifecycleState"] for i in group(fleet)["Instances"]}
    assert lifecycle == {first: "InService", broken: "Standby", last: "InService"}
    states = target_states(fleet)
    assert states[first] == "healthy" and states[last] == "healthy"
    assert states.get(broken, "unused") in ("unused", "draining")


def test_logs_are_collected_per_instance_and_zone(fleet, tmp_path):
    run = run_playbook(fleet, "playbooks/maintenance/collect_logs.yml",
                       extra={**EXTRA, "maintenance_logs_dir": str(tmp_path)}, env=ENV)
    assert run.rc == 0, run.output[-3000:]
    (run_dir,) = list(tmp_path.iterdir())
    hosts = inventory(fleet)["_meta"]["hostvars"]
    expected = {f"{h}_{v['fleet_az']}" for h, v in hosts.items() if h.startswith("i-")}
    assert {p.name for p in run_dir.iterdir()} == expected
    for folder in run_dir.iterdir():
        assert (folder / "var/log/nginx/access.log").is_file()
        assert (folder / "var/tmp/shop-journal.txt.gz").stat().st_size > 0
