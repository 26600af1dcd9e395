"""Local AWS emulator: moto's server, extended where moto lacks an API the toolkit needs.

Usage:
    python tools/emulator/awsemu.py start [--port 5000] [--state-dir .emulator]
    python tools/emulator/awsemu.py stop  [--state-dir .emulator]
    python tools/emulator/awsemu.py serve [--port 5000]      # foreground
    python tools/emulator/awsemu.py stats [--reset]          # AWS API calls counted so far

The server listens on 127.0.0.1 only. ``start`` runs it in the background, records its
PID in ``<state-dir>/emulator.pid`` and returns once it answers; ``stop`` ends exactly
that PID. Managed IAM policies are loaded (MOTO_IAM_LOAD_MANAGED_POLICIES=true).

Extensions, each written to the AWS API reference:
- autoscaling DisableMetricsCollection (moto 5.2 raises NotImplementedError);
- autoscaling DescribeAutoScalingGroups returns tags ordered by key;
- cloudfront Origin.OriginAccessControlId (moto 5.2 drops it from the origin config);
- rds DescribeDBParameterGroups of a missing name fails with DBParameterGroupNotFound;
- rds engine-default parameters in a new MySQL 8 DB parameter group;
- rds gp3 baseline IOPS and throughput in DescribeDBInstances;
- elasticache CacheNodes, SecurityGroups and CacheSecurityGroups of a cache cluster;
- elbv2 the default attributes of an Application Load Balancer;
- ec2 CreateLaunchTemplate keeps the template's own tags out of its version data;
- elasticache DeleteCacheCluster completes (moto leaves the cluster "deleting" forever);
- elasticache DeleteCacheSubnetGroup;
- cloudfront DistributionSummary fields from the distribution's config;
- ec2 DescribeTags resource types natgateway, elastic-ip, vpc-flow-log (moto 5.2 misnames them);
- ec2 CreateImage tags the new snapshots too (moto 5.2 raises NotImplementedError);
- /_emulator/stats: every AWS API request counted by service and action, for benchmarks.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs

DEFAULT_PORT = 5000
HOST = "127.0.0.1"
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")


# --------------------------------------------------------------------------- extensions
def _install_extensions() -> None:
    """Patch moto in-process with the APIs it lacks. Imported lazily: moto is heavy."""
    from moto.autoscaling.models import AutoScalingBackend, FakeAutoScalingGroup
    from moto.autoscaling.responses import AutoScalingResponse
    from moto.cloudfront import models as cf_models
    from moto.core.responses import EmptyResult

    # DisableMetricsCollection: "Metrics: If you omit this property, all metrics are
    # disabled." (AWS Auto Scaling API reference, DisableMetricsCollection).
    def group_disable_metrics_collection(self, metrics):
        current = list(getattr(self, "metrics", None) or [])
        self.metrics = [] if not metrics else [m for m in current if m not in metrics]

    def backend_disable_metrics_collection(self, group_name, metrics):
        group = self.describe_auto_scaling_groups([group_name])[0]
        group.disable_metrics_collection(metrics)

    def response_disable_metrics_collection(self):
        group_name = self._get_param("AutoScalingGroupName")
        metrics = self._get_param("Metrics")
        self.autoscaling_backend.disable_metrics_collection(group_name, metrics)
        return EmptyResult()

    # DescribeAutoScalingGroups returns a group's tags ordered by key, whatever the order
    # they were created in (seen on AWS: terraform-provider-aws#13469); moto 5.2 keeps the
    # creation order, so a module that compares lists in order sees a change every run.
    original_describe_asgs = AutoScalingBackend.describe_auto_scaling_groups

    def describe_auto_scaling_groups(self, *args, **kwargs):
        groups = original_describe_asgs(self, *args, **kwargs)
        for group in groups:
            if isinstance(getattr(group, "tags", None), list):
                group.tags.sort(key=lambda tag: tag.get("Key", tag.get("key", "")))
        return groups

    AutoScalingBackend.describe_auto_scaling_groups = describe_auto_scaling_groups
    FakeAutoScalingGroup.disable_metrics_collection = group_disable_metrics_collection
    AutoScalingBackend.disable_metrics_collection = backend_disable_metrics_collection
    AutoScalingResponse.disable_metrics_collection = response_disable_metrics_collection

    # CloudFront Origin.OriginAccessControlId: "The unique identifier of an origin access
    # control for this origin." (CloudFront API reference, Origin). An S3 origin that uses
    # OAC carries S3OriginConfig.OriginAccessIdentity = "".
    original_origin_init = cf_models.Origin.__init__

    def origin_init(self, origin):
        original_origin_init(self, origin)
        self.origin_access_control_id = origin.get("OriginAccessControlId") or ""
        # An S3 origin returns its S3OriginConfig (OriginAccessIdentity "" with OAC).
        if "S3OriginConfig" in origin:
            self.s3_origin_config = {"OriginAccessIdentity": self.s3_access_identity or ""}

    cf_models.Origin.__init__ = origin_init

    # ListDistributions: a DistributionSummary carries the distribution's Aliases, Origins,
    # behaviours, Comment, PriceClass... (CloudFront API reference, DistributionSummary);
    # moto 5.2 leaves out those it keeps on the config. Fall back to the config for them.
    def distribution_getattr(self, name):
        if name.startswith("__") or name == "distribution_config":
            raise AttributeError(name)
        return getattr(self.distribution_config, name)

    cf_models.Distribution.__getattr__ = distribution_getattr

    # DescribeTags resource-type values, as the EC2 API reference lists them: NAT Gateways
    # are "natgateway" and Elastic IPs "elastic-ip" (moto 5.2 answers "nat-gateway" and
    # "vpc-elastic-ip", so a tag filter by type misses them and tag updates never settle).
    from moto.ec2 import utils as ec2_utils

    # DescribeDBParameterGroups with a DBParameterGroupName that does not exist fails with
    # DBParameterGroupNotFound (RDS API reference, Errors); moto 5.2 answers an empty list.
    from moto.rds.exceptions import DBParameterGroupNotFoundError
    from moto.rds.models import RDSBackend

    original_describe_pg = RDSBackend.describe_db_parameter_groups

    def describe_db_parameter_groups(self, db_parameter_group_kwargs):
        found = original_describe_pg(self, db_parameter_group_kwargs)
        name = db_parameter_group_kwargs.get("db_parameter_group_name")
        if name and not found:
            raise DBParameterGroupNotFoundError(name)
        return found

    RDSBackend.describe_db_parameter_groups = describe_db_parameter_groups

    # A new DB parameter group holds its family's engine-default parameters (Source
    # "engine-default", IsModifiable), which DescribeDBParameters lists and
    # ModifyDBParameterGroup changes. moto 5.2 starts it empty, so modules that check a
    # parameter exists before setting it never set it. MySQL 8 families get the subset in
    # mysql8_parameters.json.
    from moto.rds.models import DBParameterGroup

    defaults_file = Path(__file__).with_name("mysql8_parameters.json")
    mysql8_defaults = json.loads(defaults_file.read_text())["parameters"]
    original_pg_init = DBParameterGroup.__init__

    def pg_init(self, *args, **kwargs):
        original_pg_init(self, *args, **kwargs)
        if (self.family or "").startswith("mysql8"):
            for parameter in mysql8_defaults:
                self.parameters[parameter["ParameterName"]] = dict(
                    parameter, Source="engine-default", IsModifiable=True
                )

    DBParameterGroup.__init__ = pg_init

    def pg_update_parameters(self, new_parameters):
        for new_parameter in new_parameters:
            self.parameters[new_parameter["ParameterName"]].update(new_parameter, Source="user")

    DBParameterGroup.update_parameters = pg_update_parameters

    # gp3 storage always has a baseline: for MySQL under 400 GiB 3,000 IOPS and 125 MiBps,
    # from 400 GiB 12,000 IOPS and 500 MiBps (RDS User Guide, "gp3 storage"). AWS returns
    # both in DescribeDBInstances; moto 5.2 leaves them out unless they were set.
    from moto.rds.models import DBInstance

    original_instance_init = DBInstance.__init__

    def instance_init(self, *args, **kwargs):
        original_instance_init(self, *args, **kwargs)
        if getattr(self, "storage_type", None) == "gp3":
            large = int(getattr(self, "allocated_storage", 0) or 0) >= 400
            if not getattr(self, "iops", None):
                self.iops = 12000 if large else 3000
            if not self.storage_throughput:
                self._storage_throughput = 500 if large else 125

    DBInstance.__init__ = instance_init

    # DescribeCacheClusters: CacheNodes (with their endpoints), SecurityGroups and
    # CacheSecurityGroups, as the ElastiCache API reference's CacheCluster lists them;
    # moto 5.2 leaves all three out.
    from moto.elasticache.models import CacheCluster

    def cache_nodes(self):
        address = f"{self.cache_cluster_id}.emu.0001.cache.amazonaws.com"
        return [{
            "CacheNodeId": "0001",
            "CacheNodeStatus": self.cache_cluster_status,
            "CacheNodeCreateTime": self.cache_cluster_create_time,
            "Endpoint": {"Address": address, "Port": int(self.port)},
            "ParameterGroupStatus": "in-sync",
            "CustomerAvailabilityZone": self.preferred_availability_zone or "",
        } for _ in range(int(self.num_cache_nodes or 1))]

    CacheCluster.cache_nodes = property(cache_nodes)
    CacheCluster.security_groups = property(
        lambda self: [{"SecurityGroupId": sg, "Status": "active"} for sg in self.security_group_ids]
    )
    CacheCluster.cache_security_groups = property(
        lambda self: [{"CacheSecurityGroupName": n, "Status": "active"} for n in self.cache_security_group_names]
    )

    # DescribeLoadBalancerAttributes of a new Application Load Balancer returns every
    # attribute with its default (ELB API reference, LoadBalancerAttribute); moto 5.2
    # returns four, so modules comparing idle timeout or header handling fail.
    from moto.elbv2.models import FakeLoadBalancer

    alb_defaults = {
        "access_logs.s3.enabled": "false",
        "idle_timeout.timeout_seconds": "60",
        "client_keep_alive.seconds": "3600",
        "connection_logs.s3.enabled": "false",
        "connection_logs.s3.bucket": "",
        "connection_logs.s3.prefix": "",
        "routing.http.desync_mitigation_mode": "defensive",
        "routing.http.drop_invalid_header_fields.enabled": "false",
        "routing.http.preserve_host_header.enabled": "false",
        "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false",
        "routing.http.xff_client_port.enabled": "false",
        "routing.http.xff_header_processing.mode": "append",
        "routing.http2.enabled": "true",
        "waf.fail_open.enabled": "false",
        "zonal_shift.config.enabled": "false",
    }
    original_lb_init = FakeLoadBalancer.__init__

    def lb_init(self, *args, **kwargs):
        original_lb_init(self, *args, **kwargs)
        if self.type == "application":
            self.attrs = {**alb_defaults, **self.attrs, "load_balancing.cross_zone.enabled": "true"}

    FakeLoadBalancer.__init__ = lb_init

    # CreateLaunchTemplate's TagSpecifications tag the template itself; they are not part
    # of LaunchTemplateData (EC2 API reference). moto 5.2 copies them into version 1's data,
    # so version 1 never matches a later, identical version.
    from moto.ec2.models.launch_templates import LaunchTemplateBackend

    original_create_lt = LaunchTemplateBackend.create_launch_template

    def create_launch_template(self, name, description, template_data, tag_spec):
        specs = [s for s in template_data.get("TagSpecifications") or [] if s.get("ResourceType") != "launch-template"]
        if specs:
            template_data["TagSpecifications"] = specs
        else:
            template_data.pop("TagSpecifications", None)
        return original_create_lt(self, name, description, template_data, tag_spec)

    LaunchTemplateBackend.create_launch_template = create_launch_template

    # DeleteCacheCluster answers with the cluster in "deleting"; once deleted, describing it
    # fails with CacheClusterNotFound. moto 5.2 keeps it "deleting" forever; the emulator
    # completes deletions at once, as moto completes creations.
    from moto.elasticache.models import ElastiCacheBackend

    original_delete_cc = ElastiCacheBackend.delete_cache_cluster

    def delete_cache_cluster(self, cache_cluster_id):
        cluster = original_delete_cc(self, cache_cluster_id)
        self.cache_clusters.pop(cache_cluster_id, None)
        return cluster

    ElastiCacheBackend.delete_cache_cluster = delete_cache_cluster

    # DeleteCacheSubnetGroup (not in moto 5.2): CacheSubnetGroupNotFoundFault when missing,
    # CacheSubnetGroupInUse while a cluster uses it (ElastiCache API reference).
    from moto.elasticache.exceptions import CacheSubnetGroupNotFound, ElastiCacheException
    from moto.elasticache.responses import ElastiCacheResponse

    class CacheSubnetGroupInUse(ElastiCacheException):
        code = "CacheSubnetGroupInUse"

        def __init__(self, name):
            super().__init__(f"Cache subnet group {name} is currently in use by a cache cluster.")

    def backend_delete_cache_subnet_group(self, name):
        if name not in self.cache_subnet_groups:
            raise CacheSubnetGroupNotFound(name)
        if any(c.cache_subnet_group_name == name for c in self.cache_clusters.values()):
            raise CacheSubnetGroupInUse(name)
        del self.cache_subnet_groups[name]

    def response_delete_cache_subnet_group(self):
        self.elasticache_backend.delete_cache_subnet_group(self._get_param("CacheSubnetGroupName"))
        return EmptyResult()

    ElastiCacheBackend.delete_cache_subnet_group = backend_delete_cache_subnet_group
    ElastiCacheResponse.delete_cache_subnet_group = response_delete_cache_subnet_group

    ec2_utils.EC2_PREFIX_TO_RESOURCE.update({"nat": "natgateway", "eipalloc": "elastic-ip", "fl": "vpc-flow-log"})

    # CreateImage TagSpecifications: "The tags to apply to the AMI and snapshots on
    # creation ... ResourceType: image or snapshot" (EC2 API reference, CreateImage); moto
    # 5.2 raises NotImplementedError on the snapshot ones (amazon.aws.ec2_ami sends both).
    from moto.ec2.models import EC2Backend

    original_create_image = EC2Backend.create_image

    def create_image(self, instance_id, name, description, tag_specifications):
        snapshot_tags = [tag for spec in tag_specifications if spec.get("ResourceType") == "snapshot"
                         for tag in spec.get("Tags", [])]
        image_specs = [spec for spec in tag_specifications if spec.get("ResourceType") != "snapshot"]
        ami = original_create_image(self, instance_id, name, description, tag_specifications=image_specs)
        for tag in snapshot_tags:
            ami.ebs_snapshot.add_tag(tag["Key"], tag["Value"])
        return ami

    EC2Backend.create_image = create_image

    # Instance refresh, Standby and balanced launches (autoscaling.py).
    import autoscaling

    autoscaling.install()


def _install_fleet(fleet) -> None:
    """Target health from the fleet's real health checks; deregistered targets drain first."""
    from moto.elbv2.models import ELBv2Backend, FakeHealthStatus, FakeTargetGroup

    original_health_for = FakeTargetGroup.health_for
    original_register = FakeTargetGroup.register
    original_deregister = FakeTargetGroup.deregister
    original_deregister_terminated = FakeTargetGroup.deregister_terminated_instances
    original_describe_health = ELBv2Backend.describe_target_health

    def health_for(self, target, ec2_backend):
        target_id = target["Id"]
        port = target.get("Port", self.port)
        if target_id not in self.targets and fleet.draining_until(self, target_id):
            return FakeHealthStatus(target_id, port, self.health_check_port, "draining",
                                    "Target.DeregistrationInProgress", "Target deregistration is in progress")
        health = fleet.target_health(self, target_id)
        if health is not None:
            return FakeHealthStatus(target_id, self.targets[target_id]["Port"], self.health_check_port,
                                    health.state, health.reason, health.description)
        if target_id not in self.targets and (target_id in self.terminated_targets or target_id in self.deregistered_targets):
            return FakeHealthStatus(target_id, port, self.health_check_port, "unused",
                                    "Target.NotRegistered", "Target is not registered to the target group")
        return original_health_for(self, target, ec2_backend)

    def register(self, targets):
        original_register(self, targets)
        for target in targets:
            fleet.registered(self, target["Id"])

    def deregister(self, targets):
        original_deregister(self, targets)
        for target in targets:
            fleet.deregistered(self, target["Id"])

    def deregister_terminated_instances(self, instance_ids):
        leaving = [i for i in self.targets if i in instance_ids]
        original_deregister_terminated(self, instance_ids)
        for target_id in leaving:
            fleet.deregistered(self, target_id)

    def describe_target_health(self, target_group_arn, targets):
        if not targets:
            group = self.target_groups.get(target_group_arn)
            if group is not None:
                draining = [{"Id": i} for (arn, i) in list(fleet.draining)
                            if arn == target_group_arn and i not in group.targets and fleet.draining_until(group, i)]
                targets = list(group.targets.values()) + draining
        return original_describe_health(self, target_group_arn, targets)

    FakeTargetGroup.health_for = health_for
    FakeTargetGroup.register = register
    FakeTargetGroup.deregister = deregister
    FakeTargetGroup.deregister_terminated_instances = deregister_terminated_instances
    ELBv2Backend.describe_target_health = describe_target_health


# --------------------------------------------------------------------------- call counting
class CallCounter:
    """WSGI middleware counting AWS API requests by ``service:action``."""

    def __init__(self, app):
        self.app = app
        self.calls: Counter[str] = Counter()
        self.lock = threading.Lock()

    @staticmethod
    def _action(environ, body: bytes) -> str:
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            return target.split(".")[-1]
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if "Action" in query:
            return query["Action"][0]
        if body and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            form = parse_qs(body.decode("utf-8", "replace"))
            if "Action" in form:
                return form["Action"][0]
        path = re.sub(r"/[^/]{12,}", "/{id}", environ.get("PATH_INFO", "/"))
        return f"{environ.get('REQUEST_METHOD', 'GET')} {path}"

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_emulator/stats"):
            return self._stats(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        if not path.startswith("/moto-api"):
            scope = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
            service = scope.group(1) if scope else "unsigned"
            with self.lock:
                self.calls[f"{service}:{self._action(environ, body)}"] += 1
        return self.app(environ, start_response)

    def _stats(self, environ, start_response):
        with self.lock:
            payload = {"total": sum(self.calls.values()), "calls": dict(sorted(self.calls.items()))}
            if environ.get("REQUEST_METHOD") == "POST":
                self.calls.clear()
        data = json.dumps(payload).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]


# --------------------------------------------------------------------------- commands
def serve(port: int, with_fleet: bool = False) -> None:
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    _install_extensions()
    app = CallCounter(DomainDispatcherApplication(create_backend_app))
    server = make_server(HOST, port, app, threaded=True)
    fleet = None
    if with_fleet:
        from fleet import Fleet

        def listen_on_gateway(address: str):
            # The containers reach the emulator where their network meets the host.
            gateway = make_server(address, port, app, threaded=True)
            threading.Thread(target=gateway.serve_forever, daemon=True).start()
            print(f"AWS emulator also listening on http://{address}:{port} for the local fleet", flush=True)
            return gateway

        fleet = Fleet(port)
        fleet.on_gateway = listen_on_gateway
        _install_fleet(fleet)
        fleet.start()

    def shutdown(*_):
        if fleet:
            fleet.stop()
        server.shutdown()

    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=shutdown).start())
    # A daemon outlives the terminal or the task that started it: a hang-up is not a stop.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    print(f"AWS emulator listening on http://{HOST}:{port}", flush=True)
    server.serve_forever()


def _url(port: int, path: str) -> str:
    return f"http://{HOST}:{port}{path}"


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(_url(port, "/_emulator/stats"), timeout=1):
            return True
    except OSError:
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def start(port: int, state_dir: Path, with_fleet: bool = False) -> int:
    state_dir.mkdir(parents=True, exist_ok=True)
    pidfile = state_dir / "emulator.pid"
    if pidfile.exists():
        pid = int(pidfile.read_text())
        if _pid_alive(pid) and _answers(port):
            print(f"AWS emulator already running (pid {pid}) on {_url(port, '')}")
            return 0
        pidfile.unlink()
    if _answers(port):
        print(f"error: port {port} already answers and is not ours; stop that process first", file=sys.stderr)
        return 1
    log = open(state_dir / "emulator.log", "ab")  # noqa: SIM115 - handed to the child
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true")
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, os.path.abspath(__file__), "serve", "--port", str(port), *(["--fleet"] if with_fleet else [])],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )
    pidfile.write_text(str(proc.pid))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            print(f"error: emulator exited with {proc.returncode}; see {state_dir / 'emulator.log'}", file=sys.stderr)
            pidfile.unlink(missing_ok=True)
            return 1
        if _answers(port):
            print(f"AWS emulator started (pid {proc.pid}) on {_url(port, '')}")
            return 0
        time.sleep(0.2)
    proc.terminate()
    pidfile.unlink(missing_ok=True)
    print("error: emulator did not answer within 60 s", file=sys.stderr)
    return 1


def stop(state_dir: Path) -> int:
    pidfile = state_dir / "emulator.pid"
    if not pidfile.exists():
        print("AWS emulator not running (no pid file)")
        return 0
    pid = int(pidfile.read_text())
    if _pid_alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 90  # a fleet removes its containers first
        while _pid_alive(pid) and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.1)
        if _pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
    pidfile.unlink(missing_ok=True)
    print(f"AWS emulator stopped (pid {pid})")
    return 0


def stats(port: int, reset: bool) -> int:
    request = urllib.request.Request(_url(port, "/_emulator/stats"), method="POST" if reset else "GET")
    with urllib.request.urlopen(request, timeout=5) as response:
        print(response.read().decode())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["start", "stop", "serve", "stats"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("AWSEMU_PORT", DEFAULT_PORT)))
    parser.add_argument("--state-dir", type=Path, default=Path(os.environ.get("AWSEMU_STATE_DIR", ".emulator")))
    parser.add_argument("--reset", action="store_true", help="stats: zero the counters after reading")
    parser.add_argument("--fleet", action="store_true", default=os.environ.get("AWSEMU_FLEET") == "1",
                        help="run the local fleet: podman containers for the instances (see fleet.py)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.port, args.fleet)
        return 0
    if args.command == "start":
        return start(args.port, args.state_dir, args.fleet)
    if args.command == "stop":
        return stop(args.state_dir)
    return stats(args.port, args.reset)


if __name__ == "__main__":
    sys.exit(main())
