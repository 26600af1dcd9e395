"""Benchmark: a maintenance run over the local fleet with our ansible.cfg against Ansible's defaults.

A private emulator runs the local fleet: an Auto Scaling group of N instances, each a podman
container (the Debian base image stands in for the web AMI). The run is two of our maintenance
playbooks over the whole fleet through the dynamic inventory: command.yml (uptime) and
collect_logs.yml. Each configuration runs in turn, --runs times, side by side:
- defaults: our ansible.cfg without its tuning (forks 5, no pipelining, no fact or
  inventory cache: the default in-memory cache plugin);
- ours: ansible.cfg as it is (forks 20, pipelining, fact caching, a jsonfile inventory cache);
- mitogen: ours with the mitogen_linear strategy, when mitogen is installed.
Usage: .venv/bin/python benchmarks/maintenance.py [--instances 10] [--runs 3]
"""

import argparse
import configparser
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers import ROOT, VENV_BIN, Emulator, free_port, podman, register_container_ami  # noqa: E402

STACK = "shop-local"
BASE_IMAGE = "localhost/shop-debian:12"
TUNING = {"defaults": ["forks", "gathering", "fact_caching", "fact_caching_connection", "fact_caching_timeout"],
          "ssh_connection": ["pipelining"], "inventory": ["cache_plugin", "cache_connection"]}


def fleet(emulator, count: int) -> None:
    ec2, asg = emulator.client("ec2"), emulator.client("autoscaling")
    ami = register_container_ami(ec2, BASE_IMAGE, "bench-base", STACK)
    vpc = ec2.create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.60.{i * 16}.0/20", AvailabilityZone=zone)["Subnet"]["SubnetId"]
               for i, zone in enumerate(["us-east-1a", "us-east-1b"])]
    ec2.create_launch_template(LaunchTemplateName="bench", LaunchTemplateData={"ImageId": ami, "InstanceType": "t3.micro"})
    tags = {"Stack": STACK, "ManagedBy": "ansible-shop-toolkit", "Role": "web", "Environment": "local"}
    asg.create_auto_scaling_group(
        AutoScalingGroupName=f"{STACK}-web", MinSize=count, MaxSize=count, DesiredCapacity=count,
        LaunchTemplate={"LaunchTemplateName": "bench", "Version": "1"}, VPCZoneIdentifier=",".join(subnets),
        Tags=[{"Key": k, "Value": v, "PropagateAtLaunch": True} for k, v in tags.items()])
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        running = podman("ps", "--filter", f"label=shop.emulator={emulator.port}", "--filter", "label=shop.kind=instance",
                         "--format", "{{.Names}}").stdout.split()
        if len(running) == count and all(
                podman("exec", name, "systemctl", "is-system-running").stdout.strip() in ("running", "degraded")
                for name in running):
            return
        time.sleep(2)
    sys.exit("the fleet did not boot within 300 s")


def config_file(name: str) -> Path:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "ansible.cfg")
    if name == "defaults":
        for section, keys in TUNING.items():
            for key in keys:
                parser.remove_option(section, key)
    if name == "mitogen":
        import ansible_mitogen

        parser.set("defaults", "strategy_plugins", str(Path(ansible_mitogen.__file__).parent / "plugins/strategy"))
        parser.set("defaults", "strategy", "mitogen_linear")
    # Beside ansible.cfg: Ansible resolves the relative paths in a config file from its folder.
    path = ROOT / f".benchmark-{name}.cfg"
    with path.open("w") as handle:
        parser.write(handle)
    return path


def run(emulator, config: Path, work: Path) -> float:
    env = dict(os.environ, ANSIBLE_CONFIG=str(config), AWS_URL=emulator.url, SHOP_STACK=STACK,
               ANSIBLE_NOCOLOR="1", PATH=f"{VENV_BIN}:{os.environ['PATH']}")
    started = time.monotonic()
    for playbook, extra in (("playbooks/maintenance/command.yml", "maintenance_command=uptime"),
                            ("playbooks/maintenance/collect_logs.yml", f"maintenance_logs_dir={work / 'logs'}")):
        proc = subprocess.run([str(VENV_BIN / "ansible-playbook"), playbook, "-i", "inventories/local", "-e", extra,
                               "-e", f"aws_endpoint_url={emulator.url}"],
                              cwd=ROOT, capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            sys.exit(f"{playbook} failed with {config.name}:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}")
    return time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="maintenance-bench-"))
    names = ["defaults", "ours"]
    if importlib.util.find_spec("ansible_mitogen"):
        names.append("mitogen")
    else:
        print("mitogen is not installed (pip install mitogen): its column is left out")
    emulator = Emulator(port=free_port(), state_dir=work / "emulator", fleet=True)
    emulator.start()
    results: dict[str, list[float]] = {name: [] for name in names}
    try:
        fleet(emulator, args.instances)
        configs = {name: config_file(name) for name in names}
        for _ in range(args.runs):
            for name in names:
                results[name].append(run(emulator, configs[name], work))
    finally:
        emulator.stop()
        for name in names:
            (ROOT / f".benchmark-{name}.cfg").unlink(missing_ok=True)
    print(f"command.yml + collect_logs.yml over {args.instances} local instances, median of {args.runs}")
    print(f"{'ansible.cfg':<10} {'wall s':>7} {'runs':>30}")
    for name, times in results.items():
        print(f"{name:<10} {statistics.median(times):>7.1f} {', '.join(f'{t:.1f}' for t in times):>30}")


if __name__ == "__main__":
    main()
