"""Shared helpers of the test suite: the emulator, playbook runs and boto3 clients."""

from __future__ import annotations

import datetime
import http.client
import json
import os
import random
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import boto3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
RECAP = re.compile(r"ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")


# The emulator's realistic mode as the lifecycle tests run it (tools/emulator/realism.py): AWS
# at 1/20 of its pace, EC2's token buckets, 2 % of requests throttled at random, a quarter of
# the idempotent creates losing their answer. Seed 8 loses the first two of those answers.
REALISTIC = ("--latency-scale", "0.05", "--throttle", "--throttle-fraction", "0.02",
             "--lost-responses", "0.25", "--seed", "8")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_port_range(count: int = 40) -> str:
    """START-END of ``count`` consecutive ports free on 127.0.0.1 now (the data plane's, --dataplane-ports)."""
    for _ in range(200):
        start = random.randrange(20000, 30000 - count)  # noqa: S311 - a port, below the ephemeral ones
        taken = False
        for port in range(start, start + count):
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    taken = True
                    break
        if not taken:
            return f"{start}-{start + count - 1}"
    raise RuntimeError(f"no {count} consecutive free ports found")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes

    def json(self):
        return json.loads(self.body)


def http_request(url: str, method: str = "GET", headers: dict | None = None, body: bytes | None = None,
         timeout: float = 30) -> Answer:
    """One HTTP(S) request, redirects not followed, certificates not checked (the data plane's are
    self-signed)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout,
                                                 context=ssl._create_unverified_context())  # noqa: S323
    else:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request(method, parts.path + (f"?{parts.query}" if parts.query else "") or "/", body=body,
                           headers=headers or {})
        response = connection.getresponse()
        found: dict[str, str] = {}
        for name, value in response.getheaders():
            found[name.lower()] = f"{found[name.lower()]}, {value}" if name.lower() in found else value
        return Answer(response.status, found, response.read())
    finally:
        connection.close()


@dataclass
class Emulator:
    port: int
    state_dir: Path
    fleet: bool = False  # run the local fleet: podman containers for the instances
    options: tuple[str, ...] = ()  # more flags of awsemu.py start, e.g. the realistic mode's

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _cli(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, str(ROOT / "tools/emulator/awsemu.py"), *args,
             "--port", str(self.port), "--state-dir", str(self.state_dir)],
            check=True, capture_output=True, text=True,
        )

    def start(self) -> None:
        self._cli("start", *(["--fleet"] if self.fleet else []), *self.options)

    def stop(self) -> None:
        self._cli("stop")

    def reset(self) -> None:
        """Forget every resource (moto's reset) and zero the call counters."""
        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST"), timeout=30).read()
        self.stats(reset=True)

    def stats(self, reset: bool = False) -> dict:
        request = urllib.request.Request(f"{self.url}/_emulator/stats", method="POST" if reset else "GET")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def calls_but_inventory(self) -> dict:
        """AWS calls counted, less the dynamic inventory's read of the fleet (ec2:DescribeInstances
        by inventories/<env>/aws_ec2.yml when the inventory loads): what the playbook itself did."""
        calls = dict(self.stats()["calls"])
        calls.pop("ec2:DescribeInstances", None)
        return calls

    def dataplane(self) -> dict:
        """Where the emulator's load balancers and distributions answer (awsemu.py --fleet)."""
        with urllib.request.urlopen(f"{self.url}/_emulator/dataplane", timeout=10) as response:
            return json.loads(response.read())

    def clock(self, rate: float | None = None) -> dict:
        """The emulated time (epoch seconds, ``now``) and its rate; a rate given is set from now on."""
        body = json.dumps({"rate": rate}).encode() if rate is not None else None
        request = urllib.request.Request(f"{self.url}/_emulator/clock", data=body, method="POST" if body else "GET")
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def bound_cpus(self, instance_cpus: float) -> dict:
        """Bound the fleet's instances to instance_cpus CPUs of this machine per vCPU, the running
        ones at once (0: a CPU per vCPU)."""
        body = json.dumps({"instance_cpus": instance_cpus}).encode()
        request = urllib.request.Request(f"{self.url}/_emulator/fleet", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read())

    def iam(self, body: dict | None = None) -> dict:
        """IAM enforcement (tools/emulator/access.py): whether it is on, what each principal used and
        what was denied; a body ({"enforce": bool, "clear": bool}) changes it first."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}/_emulator/iam", data=data, method="POST" if data else "GET",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def publish_baked_ami(self, stack: str, region: str) -> str:
        """Stand in for bake_ami.yml (with the root key): the emulator's Amazon Linux image published
        where the compute role reads the stack's web image."""
        ssm = self.client("ssm", region)
        ami = ssm.get_parameter(Name="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")["Parameter"]["Value"]
        ssm.put_parameter(Name=f"/{stack}/web/ami-id", Value=ami, Type="String", Overwrite=True)
        return ami

    def notifications(self) -> list[dict]:
        """What the emulator's alarms sent to SNS topics, oldest first."""
        with urllib.request.urlopen(f"{self.url}/_emulator/notifications", timeout=10) as response:
            return json.loads(response.read())["notifications"]

    def client(self, service: str, region: str = "us-east-1"):
        return boto3.client(
            service, endpoint_url=self.url, region_name=region,
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )


@dataclass
class Run:
    rc: int
    output: str

    @property
    def recap(self) -> dict:
        """Totals of the last PLAY RECAP line for localhost."""
        lines = [line for line in self.output.splitlines() if line.startswith("localhost") and "ok=" in line]
        assert lines, f"no PLAY RECAP in the output:\n{self.output[-3000:]}"
        ok, changed, unreachable, failed = map(int, RECAP.search(lines[-1]).groups())
        return {"ok": ok, "changed": changed, "unreachable": unreachable, "failed": failed}


def playbook_env(emulator: Emulator, key: tuple[str, str] = ("testing", "testing"), **extra: str) -> dict:
    """The environment a playbook runs in against the emulator, signed with ``key``."""
    # The dynamic inventory (inventories/local/aws_ec2.yml) reads this emulator, and caches what
    # it read beside it, not in the project's .cache.
    return dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1", PATH=f"{VENV_BIN}:{os.environ['PATH']}",
                AWS_URL=emulator.url, AWS_ACCESS_KEY_ID=key[0], AWS_SECRET_ACCESS_KEY=key[1],
                ANSIBLE_INVENTORY_CACHE_CONNECTION=str(emulator.state_dir / "inventory-cache"), **extra)


def run_playbook(emulator: Emulator, playbook: str, *args: str, inventory: str = "local",
                 extra: dict | None = None, timeout: int = 900, env: dict | None = None,
                 key: tuple[str, str] = ("testing", "testing")) -> Run:
    """Run a playbook against the emulator, as a user would, with the test's endpoint; signed with
    ``key`` (access key ID, secret), by default the emulator's root key."""
    emu_vars = {"aws_endpoint_url": emulator.url, "aws_access_key": key[0], "aws_secret_key": key[1]}
    command = [str(VENV_BIN / "ansible-playbook"), playbook, "-i", f"inventories/{inventory}",
               "-e", json.dumps(emu_vars)]
    if extra:
        command += ["-e", json.dumps(extra)]
    command += list(args)
    env = playbook_env(emulator, key, **(env or {}))
    started = time.monotonic()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, timeout=timeout)
    output = proc.stdout + proc.stderr
    output += f"\n# took {time.monotonic() - started:.1f}s\n"
    return Run(proc.returncode, output)


def deployer(emu: Emulator, name: str, group: str | None = None, policy: dict | None = None) -> tuple[str, str]:
    """An IAM user with an access key: in the group, or holding the policy inline (the root key makes it)."""
    admin = emu.client("iam")
    admin.create_user(UserName=name)
    if group:
        admin.add_user_to_group(GroupName=group, UserName=name)
    if policy:
        admin.put_user_policy(UserName=name, PolicyName="deploy", PolicyDocument=json.dumps(policy))
    key = admin.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def apply_deployer_policy(emu: Emulator, inventory: str, group: str, policy_dir: Path, extra: dict | None = None) -> list[dict]:
    """playbooks/deployer_policy.yml as an administrator runs it (the root key): the documents
    rendered for the environment's stack, made managed policies attached to the group."""
    applied = run_playbook(emu, "playbooks/deployer_policy.yml", inventory=inventory, extra={
        **(extra or {}), "deployer_policy_apply": True, "deployer_policy_group": group,
        "deployer_policy_dir": str(policy_dir)})
    assert applied.rc == 0, applied.output[-4000:]
    stack = f"{(extra or {}).get('stack_project', 'shop')}-{inventory}"
    documents = [json.loads(path.read_text()) for path in sorted(policy_dir.glob(f"{stack}-deployer-*.json"))]
    assert documents, applied.output[-2000:]
    assert f"applied in IAM and attached to the group {group}" in applied.output
    return documents


def podman(*args: str, check: bool = False, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, CONTAINERS_CONF=str(ROOT / "tools/podman/containers.conf"))
    return subprocess.run(["podman", *args], capture_output=True, text=True, env=env, check=check, input=stdin)


def register_container_ami(ec2, container_image: str, name: str, stack: str) -> str:
    """An emulated AMI standing for a container image, as the local bake leaves one: the local
    fleet runs instances of it in containers of that image (its ContainerImage tag)."""
    image_id = ec2.register_image(Name=name, Description=f"container image {container_image}")["ImageId"]
    ec2.create_tags(Resources=[image_id], Tags=[
        {"Key": "ContainerImage", "Value": container_image}, {"Key": "Stack", "Value": stack},
        {"Key": "Role", "Value": "web-image"}])
    return image_id


def derive_image(source: str, target: str, files: dict[str, str]) -> None:
    """A container image made from ``source`` with ``files`` (path -> content) written in."""
    container = f"derive-{os.getpid()}-{int(time.time() * 1000)}"
    podman("create", "--name", container, source, "/sbin/init", check=True)
    try:
        with tempfile.TemporaryDirectory() as work:
            for index, (path, content) in enumerate(files.items()):
                local = Path(work) / str(index)
                local.write_text(content)
                podman("cp", str(local), f"{container}:{path}", check=True)
        podman("commit", "--quiet", container, target, check=True)
    finally:
        podman("rm", "-f", "-t", "0", container)


def import_self_signed_certificate(acm, common_name: str) -> str:
    """A self-signed certificate for common_name imported into ACM (the client given): its ARN."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    return acm.import_certificate(
        Certificate=cert.public_bytes(serialization.Encoding.PEM),
        PrivateKey=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                     serialization.NoEncryption()))["CertificateArn"]
