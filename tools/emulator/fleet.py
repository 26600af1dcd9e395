"""The emulator's local fleet: real hosts behind the emulated Auto Scaling groups.

With ``awsemu.py start --fleet`` the emulator keeps, beside its API:
- a podman container for every running instance of an Auto Scaling group whose AMI was baked
  for containers (the AMI's ``ContainerImage`` tag, written by playbooks/bake_ami.yml), named by
  the instance ID, booted with systemd, running the instance's user data as cloud-init would;
  an instance that stops or terminates loses its container;
- a stand-in for every RDS instance (MariaDB, with the instance's master user, password and
  database, serving TLS with a certificate of tls.py's authority for its endpoint name, and
  refusing clients without TLS while its parameter group's require_secure_transport is 1) and
  every ElastiCache cluster (Redis), reachable from the fleet under the endpoint names the APIs
  return; a replication group's members are Redis servers that replicate from its primary,
  serve TLS when the group encrypts in transit and ask for its AUTH tokens, and the group's
  primary and reader endpoint names follow a failover (services/elasticache_groups.py);
- the target groups' health checks, made for real against those containers with each target
  group's path, port, interval, timeout, thresholds and success codes, and the deregistration
  delay (``draining``) before a deregistered target is gone: DescribeTargetHealth answers from
  them. Targets the fleet does not run keep moto's answer.

Containers carry the label ``shop.emulator=<port>``: an emulator removes its own, and only
those, when it starts and when it stops.
"""

from __future__ import annotations

import base64
import binascii
import concurrent.futures
import hashlib
import json
import logging
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import clock
import tls

log = logging.getLogger("awsemu.fleet")

BACKING_IMAGE = os.environ.get("AWSEMU_BACKING_IMAGE", "localhost/shop-backing:12")
LABEL = "shop.emulator"
# Memory of the instance types the local inventories use (EC2 instance type specifications).
MEMORY = {"t3.nano": "512m", "t3.micro": "1g", "t3.small": "2g", "t3.medium": "4g",
          "t4g.micro": "1g", "t4g.small": "2g", "t4g.medium": "4g", "m7i.large": "8g"}
BOOT_TIMEOUT = 90
REDIS_TLS_DIR = "/etc/redis/tls"
# Re-points a name of /etc/hosts inside an instance. The file is bind-mounted (no rename over it)
# and read by every lookup: written in one write() that never shortens it, a reader sees the old
# or the new entries, never an empty file (a truncate, then a write, failed the shop's database
# lookups in between). AWS's DNS changes a name's address atomically.
REPOINT_HOSTS = """
import sys
host, address = sys.argv[1], sys.argv[2]
with open("/etc/hosts", "r+") as hosts:
    old = hosts.read()
    kept = [line for line in old.splitlines() if host not in line.split("#")[0].split()[1:]]
    new = "\\n".join([*kept, f"{address} {host}"]) + "\\n"
    if len(new) < len(old):
        new += "#" * (len(old) - len(new) - 1) + "\\n"
    hosts.seek(0)
    hosts.write(new)
"""


# runc and explicit ulimits: what podman needs on these hosts (tools/podman/containers.conf).
PODMAN_ENV = dict(os.environ)
PODMAN_ENV.setdefault("CONTAINERS_CONF", str(Path(__file__).resolve().parents[1] / "podman" / "containers.conf"))


def podman(*args: str, stdin: str | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["podman", *args], input=stdin, capture_output=True, text=True,  # noqa: S603, S607
                          timeout=timeout, check=False, env=PODMAN_ENV)


def _user_data(raw) -> str:
    if isinstance(raw, list):
        raw = raw[0] if raw else ""
    if hasattr(raw, "as_bytes"):  # moto's Base64EncodedString: an Auto Scaling group's own launches
        raw = raw.as_bytes()
    if isinstance(raw, bytes):
        raw = raw.decode()
    if not raw:
        return ""
    try:
        decoded = base64.b64decode(raw, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return raw
    return decoded


class TargetHealth:
    """One target's health in one target group, as the ELB health checks would see it."""

    def __init__(self):
        self.state = "initial"
        self.reason = "Elb.RegistrationInProgress"
        self.description = "Target registration is in progress"
        self.passes = 0
        self.failures = 0
        self.next_check = 0.0

    def record(self, ok: bool, detail: str, healthy_after: int, unhealthy_after: int) -> None:
        if ok:
            self.passes, self.failures = self.passes + 1, 0
            if self.state != "healthy" and self.passes >= healthy_after:
                self.state, self.reason, self.description = "healthy", None, None
        else:
            self.failures, self.passes = self.failures + 1, 0
            if self.state != "unhealthy" and self.failures >= unhealthy_after:
                self.state = "unhealthy"
                self.reason = "Target.Timeout" if detail == "timeout" else "Target.ResponseCodeMismatch"
                self.description = ("Request timed out" if detail == "timeout"
                                    else f"Health checks failed with these codes: [{detail}]")


class Fleet:
    def __init__(self, port: int, network: str = "podman", instance_cpus: float = 0.0):
        self.port = port
        self.network = network
        # CPUs of this machine per vCPU of an instance's type (0: no bound): what makes a
        # container as busy as the instance would be, so that CPU-driven scaling is needed.
        self.instance_cpus = instance_cpus
        self.instances: dict[str, dict] = {}  # running instance ID -> type, group, detailed monitoring
        self.lock = threading.RLock()
        self.addresses: dict[str, str] = {}  # instance ID -> container IP
        self.booting: set[str] = set()
        self.failed: set[str] = set()  # instances whose container would not start or boot
        self.managed: dict[str, bool] = {}  # instance ID -> runs in the fleet
        self.backing: dict[str, str] = {}  # endpoint host name -> container IP
        self.tls_required: dict[str, bool] = {}  # database container -> require_secure_transport applied
        self.master_passwords: dict[str, str] = {}  # database container -> the master password it holds
        self.cache_roles: dict[str, tuple] = {}  # replication group -> (primary, tokens) the servers were given
        self.snapshot_dir: Path | None = None  # where DB snapshots keep their instance's data (a dump each)
        self.health: dict[tuple[str, str], TargetHealth] = {}
        self.draining: dict[tuple[str, str], float] = {}  # (target group ARN, target) -> until
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="fleet")
        self.gateway_listener = None
        self.on_gateway = None  # callback(gateway address) that starts a listener there
        self.stopping = threading.Event()

    # ------------------------------------------------------------------ life cycle
    def start(self) -> None:
        self.remove_all()
        threading.Thread(target=self._loop, name="fleet", daemon=True).start()

    def stop(self) -> None:
        self.stopping.set()
        self.remove_all()

    def remove_all(self) -> None:
        names = self._containers()
        if names:
            podman("rm", "-f", "-t", "0", *names, timeout=300)

    def _containers(self) -> dict[str, dict]:
        found = podman("ps", "-a", "--filter", f"label={LABEL}={self.port}", "--format", "json")
        if found.returncode != 0:
            log.error("podman ps failed: %s", found.stderr.strip())
            return {}
        return {c["Names"][0]: c.get("Labels") or {} for c in json.loads(found.stdout or "[]")}

    def _loop(self) -> None:
        while not self.stopping.wait(1.0):
            try:
                self.reconcile()
                self.check_targets()
            except Exception:  # the loop must outlive one bad pass
                log.exception("fleet pass failed")

    # ------------------------------------------------------------------ reconciling
    @staticmethod
    def _backends(backends) -> list:
        return [backend for regions in list(backends.values()) for backend in list(regions.values())]

    def _wanted_instances(self) -> dict[str, tuple]:
        from moto.autoscaling.models import autoscaling_backends

        wanted = {}
        for backend in self._backends(autoscaling_backends):
            for group in list(backend.autoscaling_groups.values()):
                for state in list(group.instance_states):
                    instance = state.instance
                    if instance.state != "running":
                        continue
                    image = backend.ec2_backend.tags.get(instance.image_id, {}).get("ContainerImage")
                    if image:
                        wanted[instance.id] = (instance, image)
        return wanted

    def _wanted_backing(self) -> dict[str, dict]:
        from moto.elasticache.models import elasticache_backends
        from moto.rds.models import rds_backends

        wanted = {}
        for backend in self._backends(rds_backends):
            for db in list(backend.databases.values()):
                # Only once created (rds.install_fleet marks it): a restore's snapshot is known then.
                if str(db.engine).startswith(("mysql", "mariadb")) and db.status != "deleting" \
                        and hasattr(db, "shop_awaiting_standin"):
                    wanted[f"emu{self.port}-rds-{db.db_instance_identifier}"] = {
                        "kind": "rds", "host": db.address, "user": db.master_username,
                        "password": getattr(db, "_master_user_password", None) or "", "database": db.db_name or "",
                        "require_tls": _requires_tls(backend, db),
                        "restore": getattr(db, "shop_restored_from", None), "instance": db}
        for backend in self._backends(elasticache_backends):
            for cluster in list(backend.cache_clusters.values()):
                if cluster.engine != "redis" or getattr(cluster, "replication_group_id", None):
                    continue
                if cluster.cache_cluster_status == "available":
                    wanted[f"emu{self.port}-cache-{cluster.cache_cluster_id}"] = {
                        "kind": "cache", "host": cluster.cache_nodes[0]["Endpoint"]["Address"]}
            for group in list(getattr(backend, "shop_groups", {}).values()):
                if group.status not in ("available", "modifying"):
                    continue
                for member in group.members:
                    wanted[f"emu{self.port}-cache-{member}"] = {
                        "kind": "cache", "host": f"{member}.{group.domain}", "group": group}
        return wanted

    def reconcile(self) -> None:
        existing = self._containers()
        backing = self._wanted_backing()
        for name, spec in backing.items():
            if name not in existing and name not in self.failed:
                self._start_backing(name, spec)
            elif spec["kind"] == "rds" and name in self.tls_required and self.tls_required[name] != spec["require_tls"]:
                self._require_tls(name, spec["require_tls"])
            elif spec["kind"] == "rds" and name in self.master_passwords and spec["password"] \
                    and self.master_passwords[name] != spec["password"]:
                self._set_master_password(name, spec)
        self._converge_groups(backing)
        wanted = self._wanted_instances()
        for name, labels in existing.items():
            kind = labels.get("shop.kind")
            if (kind == "instance" and name not in wanted) or (kind in ("rds", "cache") and name not in backing):
                log.info("removing container %s", name)
                podman("rm", "-f", "-t", "0", name)
                with self.lock:
                    self.addresses.pop(name, None)
                    self.instances.pop(name, None)
                    gone = self.backing.get(labels.get("shop.host", ""), "")
                    # Its own name and a group endpoint name that pointed at it.
                    self.backing = {h: ip for h, ip in self.backing.items() if h != labels.get("shop.host") and ip != gone}
                    self.tls_required.pop(name, None)
                    self.master_passwords.pop(name, None)
        for instance_id, (instance, image) in wanted.items():
            with self.lock:
                if instance_id in existing or instance_id in self.booting or instance_id in self.failed:
                    continue
                self.booting.add(instance_id)
            self.pool.submit(self._logged, self._boot_instance, instance, image)

    @staticmethod
    def _logged(work, *args) -> None:
        try:
            work(*args)
        except Exception:  # a pool swallows exceptions: say it
            log.exception("%s failed", work.__name__)

    def _run(self, name: str, image: str, labels: dict, extra: list[str]) -> str | None:
        args = ["run", "-d", "--name", name, "--systemd=always", "--network", self.network,
                "--label", f"{LABEL}={self.port}"]
        for key, value in labels.items():
            args += ["--label", f"{key}={value}"]
        started = podman(*args, *extra, image, "/sbin/init")
        if started.returncode != 0:
            log.error("could not start %s from %s: %s", name, image, started.stderr.strip())
            podman("rm", "-f", "-t", "0", name)
            return None
        self._ensure_gateway()
        deadline = time.monotonic() + BOOT_TIMEOUT
        while time.monotonic() < deadline and not self.stopping.is_set():
            state = podman("exec", name, "systemctl", "is-system-running").stdout.strip()
            if state in ("running", "degraded"):
                return podman("inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                              name).stdout.strip()
            time.sleep(0.5)
        log.error("%s did not boot within %s s", name, BOOT_TIMEOUT)
        return ""

    def _start_backing(self, name: str, spec: dict) -> None:
        address = self._run(name, BACKING_IMAGE, {"shop.kind": spec["kind"], "shop.host": spec["host"]},
                            # A host name has at most 64 characters (sethostname(2)): the endpoint's
                            # first label; the endpoint itself resolves through the instances' hosts.
                            ["--memory", "512m", "--hostname", spec["host"].split(".")[0][:63]])
        if not address:
            self.failed.add(name)  # not retried every second: restart the emulator once it is fixed
            if spec["kind"] == "rds":  # RDS's status for an instance it cannot bring up
                spec["instance"].status = "failed"
            return
        if spec["kind"] == "rds":
            podman("exec", name, "systemctl", "disable", "--now", "redis-server")
            if not self._serve_tls(name, spec):
                return
            if spec.get("restore") and not self._load_snapshot(name, spec["restore"]):
                return
            # The master user as RDS creates it; the password goes through stdin, not argv.
            user, password = _sql_string(spec["user"]), _sql_string(spec["password"])
            database = (spec["database"] or "mysql").replace("`", "``")
            sql = (f"CREATE DATABASE IF NOT EXISTS `{database}`;\n"
                   f"CREATE USER IF NOT EXISTS {user}@'%' IDENTIFIED BY {password};\n"
                   f"GRANT ALL PRIVILEGES ON *.* TO {user}@'%' WITH GRANT OPTION;\n")
            done = podman("exec", "-i", name, "mysql", stdin=sql)
            if done.returncode != 0:
                log.error("could not create the master user in %s: %s", name, done.stderr.strip())
                return
            self.master_passwords[name] = spec["password"]
        else:
            podman("exec", name, "systemctl", "disable", "--now", "mariadb")
            if spec.get("group") is not None and not self._serve_redis(name, spec["group"], spec["host"]):
                return
        with self.lock:
            self.backing[spec["host"]] = address
            running = list(self.addresses)
        if spec["kind"] == "rds":
            spec["instance"].shop_awaiting_standin = False  # its server answers: RDS may call it available
        # A new endpoint resolves at once in the instances already running, as RDS's and
        # ElastiCache's DNS names do (the containers got the ones they know at boot).
        for instance_id in running:
            podman("exec", instance_id, "sh", "-c", f"echo '{address} {spec['host']}' >> /etc/hosts")
        log.info("%s (%s) runs at %s", name, spec["host"], address)

    # ------------------------------------------------------------------ replication groups
    def _serve_redis(self, name: str, group, host: str) -> bool:
        """A member's Redis: TLS only (a certificate for its own and the group's endpoint names)
        when the group encrypts in transit, the group's AUTH tokens for the default user."""
        settings = ["bind 0.0.0.0", "protected-mode no"]
        if group.transit:
            certificate, key = tls.AUTHORITY.issue(host, group.primary_endpoint, group.reader_endpoint)
            for file_name, content in {"ca.pem": tls.AUTHORITY.ca_pem(), "server.pem": certificate,
                                       "server-key.pem": key}.items():
                wrote = podman("exec", "-i", name, "sh", "-c",
                               f"install -d -o redis -m 0750 {REDIS_TLS_DIR} && umask 077 && "
                               f"cat > {REDIS_TLS_DIR}/{file_name} && chown redis {REDIS_TLS_DIR}/{file_name}",
                               stdin=content)
                if wrote.returncode != 0:
                    log.error("could not write %s into %s: %s", file_name, name, wrote.stderr.strip())
                    return False
            settings += [f"port 0\ntls-port {group.port}", f"tls-cert-file {REDIS_TLS_DIR}/server.pem",
                         f"tls-key-file {REDIS_TLS_DIR}/server-key.pem", f"tls-ca-cert-file {REDIS_TLS_DIR}/ca.pem",
                         "tls-auth-clients no", "tls-replication yes"]
        else:
            settings.append(f"port {group.port}")
        if group.tokens:
            settings.append("user default on " + " ".join(f">{t}" for t in group.tokens) + " ~* &* +@all")
            settings.append(f"masterauth {group.tokens[-1]}")
        done = podman("exec", "-i", name, "sh", "-c",
                      "umask 027 && cat > /etc/redis/shop.conf && chgrp redis /etc/redis/shop.conf && "
                      "(grep -q '^include /etc/redis/shop.conf' /etc/redis/redis.conf || "
                      "echo 'include /etc/redis/shop.conf' >> /etc/redis/redis.conf) && systemctl restart redis-server",
                      stdin="\n".join(settings) + "\n")
        if done.returncode != 0:
            log.error("could not restart %s with the group's settings: %s", name, done.stderr.strip())
            return False
        return True

    def _redis(self, name: str, group, *command: str, token: str | None = None) -> bool:
        """One command to a member's Redis, from inside its container (the token through the
        environment, not argv): ``token``, or the group's newest."""
        tls_args = ["--tls", "--insecure"] if group.transit else []
        token = token if token is not None else (group.tokens[-1] if group.tokens else "")
        env = ["--env", f"REDISCLI_AUTH={token}"] if token else []
        done = podman("exec", *env, name, "redis-cli", *tls_args, "-p", str(group.port), *command)
        if done.returncode != 0 or done.stdout.startswith(("ERR", "NOAUTH", "WRONGPASS")):
            log.error("redis %s in %s failed: %s", command[0], name, (done.stdout + done.stderr).strip())
            return False
        return True

    def _converge_groups(self, backing: dict[str, dict]) -> None:
        """Every group's servers replicate from the member the API calls primary, and its
        endpoint names point where ElastiCache's DNS would: the primary endpoint to the primary,
        the reader endpoint to a replica. Done again after a failover or a token change."""
        groups = {}
        for spec in backing.values():
            if spec.get("group") is not None:
                groups.setdefault(spec["group"].id, spec["group"])
        for group_id in [g for g in self.cache_roles if g not in groups]:
            self.cache_roles.pop(group_id)
        for group_id, group in groups.items():
            primary, tokens = group.primary(), tuple(group.tokens)
            if self.cache_roles.get(group_id) == (primary, tokens):
                continue
            names = {member: f"emu{self.port}-cache-{member}" for member in group.members}
            with self.lock:
                ips = {member: self.backing.get(f"{member}.{group.domain}") for member in group.members}
            if not all(ips.values()):
                continue  # a member is still starting
            known = self.cache_roles.get(group_id, (None, ()))
            if known[1] != tokens and known[0] is not None:
                old = known[1][-1] if known[1] else ""  # what the servers still ask for
                for member in group.members:
                    self._redis(names[member], group, "ACL", "SETUSER", "default", "resetpass",
                                *(f">{t}" for t in tokens), token=old)
                    self._redis(names[member], group, "CONFIG", "SET", "masterauth", tokens[-1] if tokens else "",
                                token=old)
            # The new primary first, then the names, then the others follow it: as a failover.
            if not self._redis(names[primary], group, "REPLICAOF", "NO", "ONE"):
                continue
            replicas = [m for m in group.members if m != primary]
            self._point(group.primary_endpoint, ips[primary])
            self._point(group.reader_endpoint, ips[replicas[0]] if replicas else ips[primary])
            for member in replicas:
                self._redis(names[member], group, "REPLICAOF", ips[primary], str(group.port))
            self.cache_roles[group_id] = (primary, tokens)
            log.info("replication group %s: primary %s at %s", group_id, primary, ips[primary])

    def _point(self, host: str, address: str) -> None:
        """``host`` resolves to ``address`` in every running instance and the ones to come."""
        with self.lock:
            if self.backing.get(host) == address:
                return
            self.backing[host] = address
            running = list(self.addresses)
        for instance_id in running:
            podman("exec", "-i", instance_id, "python3", "-", host, address, stdin=REPOINT_HOSTS)

    # ------------------------------------------------------------------ DB snapshots
    def _snapshot_file(self, snapshot_arn: str) -> Path | None:
        if self.snapshot_dir is None:
            return None
        return self.snapshot_dir / (hashlib.sha256(snapshot_arn.encode()).hexdigest()[:32] + ".sql")

    def snapshot_data(self, db, snapshot_arn: str) -> None:
        """A DB snapshot of a stand-in keeps its data: its databases, routines, triggers, events
        and accounts, dumped consistently (a snapshot is of the whole instance's storage)."""
        name, target = f"emu{self.port}-rds-{db.db_instance_identifier}", self._snapshot_file(snapshot_arn)
        if target is None or getattr(db, "shop_awaiting_standin", True) or name not in self._containers():
            return  # no stand-in serves it yet: nothing written, nothing to keep
        listed = podman("exec", name, "mysql", "-N", "-B", "-e",
                        "SELECT schema_name FROM information_schema.schemata WHERE schema_name NOT IN "
                        "('mysql', 'information_schema', 'performance_schema', 'sys')")
        dumped = podman("exec", name, "mysqldump", "--system=users", "--insert-ignore", "--single-transaction",
                        "--routines", "--triggers", "--events", "--databases", *listed.stdout.split(), timeout=600)
        if listed.returncode != 0 or dumped.returncode != 0:
            log.error("could not keep the data of %s in its snapshot: %s", name, (listed.stderr + dumped.stderr).strip())
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dumped.stdout)
        log.info("snapshot %s keeps the data of %s (%d bytes)", snapshot_arn, name, len(dumped.stdout))

    def _load_snapshot(self, name: str, snapshot_arn: str) -> bool:
        source = self._snapshot_file(snapshot_arn)
        if source is None or not source.exists():
            log.warning("%s is restored from %s, which kept no data: it starts empty", name, snapshot_arn)
            return True
        loaded = podman("exec", "-i", name, "mysql", stdin=source.read_text(), timeout=600)
        if loaded.returncode != 0:
            log.error("could not load %s into %s: %s", snapshot_arn, name, loaded.stderr.strip())
            return False
        log.info("%s holds the data of snapshot %s", name, snapshot_arn)
        return True

    def _serve_tls(self, name: str, spec: dict) -> bool:
        """MariaDB with a certificate for the endpoint name, and require_secure_transport as the
        instance's parameter group has it (dynamic on RDS: applied without a restart later on)."""
        for file_name, content in tls.AUTHORITY.mariadb_files(spec["host"]).items():
            wrote = podman("exec", "-i", name, "sh", "-c", tls.mariadb_install(file_name), stdin=content)
            if wrote.returncode != 0:
                log.error("could not write %s into %s: %s", file_name, name, wrote.stderr.strip())
                return False
        settings = (f"[mariadb]\n{tls.MARIADB_SETTINGS}"
                    f"require_secure_transport={'ON' if spec['require_tls'] else 'OFF'}\n")
        done = podman("exec", "-i", name, "sh", "-c",
                      "cat > /etc/mysql/mariadb.conf.d/90-tls.cnf && systemctl restart mariadb", stdin=settings)
        if done.returncode != 0:
            log.error("could not restart %s with TLS: %s", name, done.stderr.strip())
            return False
        self.tls_required[name] = spec["require_tls"]
        return True

    def _require_tls(self, name: str, required: bool) -> None:
        done = podman("exec", "-i", name, "mysql", stdin=f"SET GLOBAL require_secure_transport={'ON' if required else 'OFF'};\n")
        if done.returncode != 0:
            log.error("could not set require_secure_transport in %s: %s", name, done.stderr.strip())
            return
        self.tls_required[name] = required
        log.info("%s: require_secure_transport %s", name, "ON" if required else "OFF")

    def _set_master_password(self, name: str, spec: dict) -> None:
        """A new master password (ModifyDBInstance MasterUserPassword: "doesn't result in an outage
        and the change is asynchronously applied as soon as possible", RDS API reference): the
        server's master user takes it; sessions already open stay, as MySQL keeps them."""
        sql = f"ALTER USER {_sql_string(spec['user'])}@'%' IDENTIFIED BY {_sql_string(spec['password'])};\n"
        done = podman("exec", "-i", name, "mysql", stdin=sql)  # through stdin, not argv
        if done.returncode != 0:
            log.error("could not set the master password in %s: %s", name, done.stderr.strip())
            return
        self.master_passwords[name] = spec["password"]
        log.info("%s: the master password changed", name)

    def _boot_instance(self, instance, image: str) -> None:
        try:
            with self.lock:
                hosts = [f"--add-host={host}:{ip}" for host, ip in self.backing.items()]
            cpus = ["--cpus", _cpus(instance.instance_type, self.instance_cpus)] if self.instance_cpus > 0 else []
            address = self._run(
                instance.id, image,
                {"shop.kind": "instance", "shop.instance-id": instance.id, "shop.ami-id": instance.image_id},
                ["--hostname", instance.private_dns_name.split(".")[0] if instance.private_dns_name else instance.id,
                 "--memory", MEMORY.get(instance.instance_type, "1g"), *cpus, *hosts])
            if not address:
                with self.lock:
                    self.failed.add(instance.id)
                return
            script = _user_data(instance.user_data)
            if script:
                ran = podman("exec", "-i", instance.id, "sh", "-c",
                             "install -d -m 0700 /var/lib/cloud/instance/scripts && "
                             "cat > /var/lib/cloud/instance/scripts/part-001 && "
                             "chmod 0700 /var/lib/cloud/instance/scripts/part-001 && "
                             "/var/lib/cloud/instance/scripts/part-001", stdin=script, timeout=300)
                if ran.returncode != 0:
                    log.error("user data of %s failed (%s): %s", instance.id, ran.returncode, ran.stderr[-2000:])
            group = getattr(instance, "autoscaling_group", None)
            instance.shop_up_emulated = clock.timestamp()  # in service: its warm-up starts (services/scaling.py)
            with self.lock:
                self.addresses[instance.id] = address
                self.instances[instance.id] = {
                    "type": instance.instance_type, "group": group.name if group is not None else None,
                    "detailed": getattr(instance, "monitoring_state", "disabled") == "enabled"}
            log.info("instance %s runs in a container at %s (%s)", instance.id, address, image)
        finally:
            with self.lock:
                self.booting.discard(instance.id)

    def bound_cpus(self, instance_cpus: float) -> dict[str, str]:
        """CPUs of this machine per vCPU from now on, for the instances to come and the running
        ones (``podman update``). 0 gives a running container a CPU per vCPU: cgroup v1 keeps a
        quota once set, and a CPU per vCPU is what an unbounded container's metric counts against."""
        self.instance_cpus = instance_cpus
        with self.lock:
            running = {instance_id: meta["type"] for instance_id, meta in self.instances.items()}
        applied = {}
        for instance_id, instance_type in running.items():
            cpus = _cpus(instance_type, instance_cpus or 1.0)
            done = podman("update", "--cpus", cpus, instance_id)
            if done.returncode != 0:
                raise RuntimeError(f"podman update --cpus {cpus} {instance_id}: {done.stderr.strip()}")
            applied[instance_id] = cpus
        return applied

    def _ensure_gateway(self) -> None:
        """The fleet reaches the emulator at its network's gateway, once that bridge exists."""
        if self.gateway_listener or not self.on_gateway:
            return
        found = podman("network", "inspect", self.network, "--format",
                       "{{range .Subnets}}{{.Gateway}}{{end}}")
        gateway = found.stdout.strip()
        if gateway:
            with self.lock:
                if not self.gateway_listener:
                    self.gateway_listener = self.on_gateway(gateway)

    # ------------------------------------------------------------------ for the metrics
    def running_instances(self) -> dict[str, str]:
        """Instances whose container runs: their instance type."""
        with self.lock:
            return {i: meta["type"] for i, meta in self.instances.items()}

    def instance_groups(self) -> dict[str, str]:
        with self.lock:
            return {i: meta["group"] for i, meta in self.instances.items() if meta["group"]}

    def detailed_monitoring(self) -> dict[str, bool]:
        with self.lock:
            return {i: meta["detailed"] for i, meta in self.instances.items()}

    @staticmethod
    def cgroup(container: str) -> Path | None:
        found = podman("inspect", "--format", "{{.State.CgroupPath}}", container)
        path = found.stdout.strip()
        return Path(path) if found.returncode == 0 and path else None

    # ------------------------------------------------------------------ health checks
    def manages(self, ec2_backend, instance_id: str) -> bool:
        """Whether the instance is one of the fleet's: an Auto Scaling instance of a container AMI."""
        with self.lock:
            known = self.managed.get(instance_id)
        if known is None:
            instance = ec2_backend.get_instance_by_id(instance_id) if instance_id.startswith("i-") else None
            known = bool(instance is not None and getattr(instance, "autoscaling_group", None) is not None
                         and ec2_backend.tags.get(instance.image_id, {}).get("ContainerImage"))
            with self.lock:
                self.managed[instance_id] = known
        return known

    def check_targets(self) -> None:
        from moto.elbv2.models import elbv2_backends

        now = time.monotonic()
        for backend in self._backends(elbv2_backends):
            for group in list(backend.target_groups.values()):
                for target_id, target in list(group.targets.items()):
                    if not self.manages(group.ec2_backend, target_id):
                        continue
                    with self.lock:
                        address = self.addresses.get(target_id)
                        if address is None and target_id not in self.failed:
                            continue  # still booting: the target stays "initial"
                        health = self.health.setdefault((group.arn, target_id), TargetHealth())
                        if health.next_check > now:
                            continue
                        health.next_check = now + int(group.health_check_interval_seconds or 30)
                    self.pool.submit(self._logged, self._check, group, target, health, address)

    def _check(self, group, target: dict, health: TargetHealth, address: str | None) -> None:
        port = group.health_check_port
        port = int(port) if str(port).isdigit() else int(target.get("Port") or group.port)
        url = f"http://{address}:{port}{group.health_check_path or '/'}"
        codes = str((group.matcher or {}).get("HttpCode", "200"))
        ok, detail = False, "timeout"
        if address:
            try:
                with urllib.request.urlopen(url, timeout=int(group.health_check_timeout_seconds or 5)) as answer:
                    detail = str(answer.status)
            except urllib.error.HTTPError as error:
                detail = str(error.code)
            except OSError:
                detail = "timeout"
            ok = detail.isdigit() and _code_matches(int(detail), codes)
        with self.lock:
            health.record(ok, detail, int(group.healthy_threshold_count), int(group.unhealthy_threshold_count))

    def deregistered(self, group, target_id: str) -> None:
        delay = int(group.attributes.get("deregistration_delay.timeout_seconds", 300))
        with self.lock:
            self.health.pop((group.arn, target_id), None)
            self.draining[(group.arn, target_id)] = time.monotonic() + delay

    def registered(self, group, target_id: str) -> None:
        with self.lock:
            self.draining.pop((group.arn, target_id), None)
            self.health.pop((group.arn, target_id), None)

    def draining_until(self, group, target_id: str) -> float | None:
        with self.lock:
            until = self.draining.get((group.arn, target_id))
        return until if until and until > time.monotonic() else None

    def target_health(self, group, target_id: str) -> TargetHealth | None:
        if target_id not in group.targets or not self.manages(group.ec2_backend, target_id):
            return None
        with self.lock:
            return self.health.setdefault((group.arn, target_id), TargetHealth())


def _requires_tls(backend, db) -> bool:
    """The instance's parameter group's require_secure_transport (RDS for MySQL: 0 by default)."""
    group = backend.db_parameter_groups.get(getattr(db, "db_parameter_group_name", None) or "")
    value = (group.parameters.get("require_secure_transport", {}) if group is not None else {}).get("ParameterValue")
    return str(value).upper() in ("1", "ON", "TRUE")


def _sql_string(value: str) -> str:
    """A MariaDB string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _cpus(instance_type: str, per_vcpu: float) -> str:
    """podman's --cpus for an instance: its type's vCPUs times this machine's CPUs per vCPU."""
    import metrics  # the emulator's own module: vCPUs per instance type

    return f"{metrics.VCPUS.get(instance_type, 2) * per_vcpu:g}"


def _code_matches(code: int, codes: str) -> bool:
    for part in codes.split(","):
        low, _, high = part.strip().partition("-")
        if low.isdigit() and int(low) <= code <= int(high or low):
            return True
    return False
