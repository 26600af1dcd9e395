"""CloudWatch metrics of the local fleet, as AWS publishes them, on the emulator's clock.

With ``--fleet``, a collector turns what the fleet and its data plane do into the metrics AWS
would publish, one datapoint per minute of emulated time (clock.py):

- AWS/ApplicationELB, from every request the ALB data plane (HAProxy) logs: ``RequestCount``
  (by LoadBalancer, and by LoadBalancer and TargetGroup), ``HTTPCode_Target_2XX..5XX_Count`` (a
  target's answers), ``HTTPCode_ELB_5XX_Count`` (answers the load balancer made itself: no
  target, a target refused or timed out, a fixed response), ``TargetResponseTime`` (seconds from
  the request leaving the load balancer to the target's answer; every request kept, so
  percentiles are exact), ``RequestCountPerTarget`` (the target group's requests divided by its
  healthy targets, by TargetGroup and by LoadBalancer and TargetGroup), ``HealthyHostCount`` and
  ``UnHealthyHostCount`` (by LoadBalancer and TargetGroup) - ELB UG "CloudWatch metrics for your
  Application Load Balancer";
- AWS/EC2 ``CPUUtilization`` by InstanceId and by AutoScalingGroupName: the container's CPU time
  (its cgroup) over its share of this machine: its CPU quota when it has one (``--instance-cpus``
  CPUs per vCPU of its instance type sets it), else a CPU per vCPU (100 % = every vCPU busy).
  Detailed monitoring publishes every minute, basic every 5 minutes (EC2 UG "Manage detailed
  monitoring for your EC2 instances"). The group's aggregate leaves out the instances still in
  the group's default instance warmup, when it has one (EC2 Auto Scaling UG "Set the default
  instance warmup for an Auto Scaling group");
- AWS/AutoScaling group metrics (``GroupMinSize`` ... ``GroupTotalInstances``) of the groups whose
  metrics collection is enabled (EC2 Auto Scaling UG "Amazon CloudWatch metrics for Amazon EC2
  Auto Scaling").

These live in ``STORE`` (exact dimensions, as CloudWatch keys a metric by its whole set of
dimensions); GetMetricStatistics and GetMetricData answer from it for those namespaces, and
from moto for the metrics clients put themselves. Not modelled: the ALB's HTTPCode_ELB_4XX and
connection metrics, per-Availability-Zone dimensions, EC2 network and disk metrics.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import socket
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import clock

log = logging.getLogger("awsemu.metrics")

PUBLISHED = ("AWS/ApplicationELB", "AWS/EC2", "AWS/AutoScaling")
# vCPUs of the instance types the toolkit offers (EC2 UG, "Amazon EC2 instance types").
VCPUS = {"t3.micro": 2, "t3.small": 2, "t3.medium": 2, "t3.large": 2, "t3.xlarge": 4, "t3.2xlarge": 8,
         "t4g.micro": 2, "t4g.small": 2, "t4g.medium": 2, "m6i.large": 2, "m6i.xlarge": 4, "m7i.large": 2,
         "c6i.large": 2, "c6i.xlarge": 4, "c7i.large": 2, "r6i.large": 2}
GROUP_METRICS = ("GroupMinSize", "GroupMaxSize", "GroupDesiredCapacity", "GroupInServiceInstances",
                 "GroupPendingInstances", "GroupStandbyInstances", "GroupTerminatingInstances", "GroupTotalInstances")
# The fields HAProxy logs for each request (dataplane.LOG_FORMAT).
_LOG_LINE = re.compile(r"shopreq (\S+) (\S+) (\S+) (-?\d+) (-?\d+) (\S+)")


def minute(moment: float) -> int:
    return int(moment // 60 * 60)


class Aggregate:
    """The datapoints of one metric in one minute: count, sum, min, max, and the values themselves
    when percentiles may be asked of them."""

    __slots__ = ("count", "sum", "min", "max", "values")

    def __init__(self):
        self.count, self.sum, self.min, self.max = 0.0, 0.0, math.inf, -math.inf
        self.values: Counter | None = None

    def add(self, value: float, count: float = 1.0, keep: bool = False) -> None:
        self.count += count
        self.sum += value * count
        self.min, self.max = min(self.min, value), max(self.max, value)
        if keep:
            if self.values is None:
                self.values = Counter()
            self.values[round(value, 4)] += count

    def merge(self, other: Aggregate) -> None:
        self.count += other.count
        self.sum += other.sum
        self.min, self.max = min(self.min, other.min), max(self.max, other.max)
        if other.values:
            if self.values is None:
                self.values = Counter()
            self.values.update(other.values)

    def statistic(self, name: str) -> float | None:
        if self.count <= 0:
            return None
        if name == "Sum":
            return self.sum
        if name == "Average":
            return self.sum / self.count
        if name == "Minimum":
            return self.min
        if name == "Maximum":
            return self.max
        if name == "SampleCount":
            return self.count
        match = re.fullmatch(r"p(\d+(?:\.\d+)?)", name)
        if match and self.values:
            # The nearest-rank percentile of the values kept.
            rank, seen = float(match.group(1)) / 100 * self.count, 0.0
            for value in sorted(self.values):
                seen += self.values[value]
                if seen >= rank:
                    return value
            return max(self.values)
        return None


def _key(namespace: str, name: str, dimensions) -> tuple:
    pairs = dimensions.items() if isinstance(dimensions, dict) else ((d["Name"], d["Value"]) for d in dimensions or [])
    return namespace, name, frozenset(pairs)


class Store:
    """AWS-published metrics by (namespace, name, dimensions) and minute of emulated time."""

    KEEP_VALUES = {"TargetResponseTime"}

    def __init__(self):
        self.lock = threading.Lock()
        self.series: dict[tuple, dict[int, Aggregate]] = defaultdict(dict)
        self.units: dict[tuple, str] = {}

    def clear(self) -> None:
        with self.lock:
            self.series.clear()

    def add(self, namespace: str, name: str, dimensions: dict, value: float, at: float, unit: str = "Count",
            count: float = 1.0) -> None:
        key = _key(namespace, name, dimensions)
        with self.lock:
            bucket = self.series[key].setdefault(minute(at), Aggregate())
            bucket.add(value, count, keep=name in self.KEEP_VALUES)
            self.units[key] = unit

    def add_aggregate(self, namespace: str, name: str, dimensions: dict, aggregate: Aggregate, at: float,
                      unit: str = "Count") -> None:
        key = _key(namespace, name, dimensions)
        with self.lock:
            self.series[key].setdefault(minute(at), Aggregate()).merge(aggregate)
            self.units[key] = unit

    def statistics(self, namespace: str, name: str, dimensions, start: float, end: float, period: int,
                   statistics: list[str]) -> list[dict]:
        """One datapoint per period with data in [start, end), periods aligned to ``period``."""
        key = _key(namespace, name, dimensions)
        period = max(60, int(period))
        with self.lock:
            buckets = dict(self.series.get(key, {}))
            unit = self.units.get(key, "None")
        merged: dict[int, Aggregate] = {}
        for moment, aggregate in buckets.items():
            if start <= moment < end:
                merged.setdefault(int(moment // period * period), Aggregate()).merge(aggregate)
        points = []
        for moment in sorted(merged):
            values = {stat: merged[moment].statistic(stat) for stat in statistics}
            points.append({"Timestamp": dt.datetime.fromtimestamp(moment, dt.UTC), "Unit": unit,
                           "values": {k: v for k, v in values.items() if v is not None}})
        return points

STORE = Store()


# --------------------------------------------------------------------------- collector
class Collector:
    """Collects the fleet's metrics into STORE; flushes each emulated minute."""

    def __init__(self, fleet, dataplane):
        self.fleet, self.dataplane = fleet, dataplane
        self.stopping = threading.Event()
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.5)
        self.log_address = f"127.0.0.1:{self.socket.getsockname()[1]}"
        self.lock = threading.Lock()
        self.requests: list[tuple] = []  # (emulated time, frontend, backend, server, status, Tr)
        self.cpu: dict[str, tuple[float, float]] = {}  # instance -> (real time, CPU ns) at the last sample
        self.cpu_busy: dict[str, list[float]] = defaultdict(list)  # instance -> [busy fraction per sample]
        self.health: dict[tuple, list[tuple[int, int]]] = defaultdict(list)  # (lb, tg) -> [(healthy, unhealthy)]
        self.last_flush = minute(clock.timestamp())
        self.cgroups: dict[str, Path | None] = {}

    def start(self) -> None:
        threading.Thread(target=self._listen, name="metrics-log", daemon=True).start()
        threading.Thread(target=self._loop, name="metrics", daemon=True).start()

    def stop(self) -> None:
        self.stopping.set()

    # -- requests, as HAProxy logs them
    def _listen(self) -> None:
        while not self.stopping.is_set():
            try:
                data = self.socket.recv(8192)
            except TimeoutError:
                continue
            except OSError:
                return
            match = _LOG_LINE.search(data.decode("utf-8", "replace"))
            if match:
                frontend, backend, server, status, response_ms, _client = match.groups()
                with self.lock:
                    self.requests.append((clock.timestamp(), frontend, backend, server, int(status), int(response_ms)))

    def _loop(self) -> None:
        while not self.stopping.wait(1.0):
            try:
                self.sample()
                now = clock.timestamp()
                if minute(now) > self.last_flush:
                    self.flush(self.last_flush)
                    self.last_flush = minute(now)
            except Exception:  # the loop must outlive one bad pass
                log.exception("metrics pass failed")

    # -- samples taken every real second
    def sample(self) -> None:
        for key, (healthy, unhealthy) in self._target_health().items():
            self.health[key].append((healthy, unhealthy))
        now = time.monotonic()
        for instance_id, (cpus, cgroup) in self._instances().items():
            used = _cpu_ns(cgroup)
            if used is None:
                continue
            before = self.cpu.get(instance_id)
            self.cpu[instance_id] = (now, used)
            if before and now > before[0]:
                busy = (used - before[1]) / 1e9 / (now - before[0]) / cpus
                self.cpu_busy[instance_id].append(min(1.0, max(0.0, busy)))

    def _instances(self) -> dict[str, tuple[float, Path | None]]:
        """Running instance containers: their share of this machine's CPUs (the container's CPU
        quota - fleet.py sets it from --instance-cpus - else a CPU per vCPU) and their cgroup."""
        found = {}
        for instance_id, instance_type in self.fleet.running_instances().items():
            if instance_id not in self.cgroups:
                self.cgroups[instance_id] = self.fleet.cgroup(instance_id)
            cgroup = self.cgroups[instance_id]
            found[instance_id] = (_cpu_quota(cgroup) or VCPUS.get(instance_type, 2), cgroup)
        return found

    def _target_health(self) -> dict[tuple, tuple[int, int]]:
        from moto.elbv2.models import elbv2_backends

        counts = {}
        for regions in list(elbv2_backends.values()):
            for backend in list(regions.values()):
                for group in list(backend.target_groups.values()):
                    states = []
                    for target_id in list(group.targets):
                        health = self.fleet.target_health(group, target_id)
                        states.append(health.state if health else "healthy")
                    for balancer_arn in list(getattr(group, "load_balancer_arns", []) or []):
                        key = (balancer_arn, group.arn)
                        counts[key] = (states.count("healthy"), states.count("unhealthy"))
        return counts

    # -- one minute's datapoints
    def flush(self, at: int) -> None:
        with self.lock:
            requests = [r for r in self.requests if minute(r[0]) <= at]
            self.requests = [r for r in self.requests if minute(r[0]) > at]
        names = self.dataplane.names() if self.dataplane else {}
        per_balancer: dict[str, Counter] = defaultdict(Counter)
        per_group: dict[tuple, Counter] = defaultdict(Counter)
        times: dict[tuple, Aggregate] = defaultdict(Aggregate)
        for _, frontend, backend, server, status, response_ms in requests:
            kind, balancer = names.get(frontend, ("", ""))
            if kind != "balancer":
                continue
            lb = _lb_dimension(balancer)
            per_balancer[lb]["RequestCount"] += 1
            kind, group = names.get(backend, ("", ""))
            group = group if kind == "group" else None
            from_target = response_ms >= 0 and server not in ("<NOSRV>", "-")
            if from_target:
                code = f"HTTPCode_Target_{status // 100}XX_Count"
                per_balancer[lb][code] += 1
                times[(lb,)].add(response_ms / 1000, keep=True)
            elif status >= 500:
                per_balancer[lb]["HTTPCode_ELB_5XX_Count"] += 1
            if group:
                tg = _tg_dimension(group)
                per_group[(lb, tg)]["RequestCount"] += 1
                if from_target:
                    per_group[(lb, tg)][f"HTTPCode_Target_{status // 100}XX_Count"] += 1
                    times[(lb, tg)].add(response_ms / 1000, keep=True)
        stamp = float(at)
        for lb, counts in per_balancer.items():
            for name, value in counts.items():
                STORE.add("AWS/ApplicationELB", name, {"LoadBalancer": lb}, value, stamp)
        healthy_now = {(_lb_dimension(lb), _tg_dimension(tg)): samples[-1][0] if samples else 0
                       for (lb, tg), samples in self.health.items()}
        for (lb, tg), counts in per_group.items():
            for name, value in counts.items():
                STORE.add("AWS/ApplicationELB", name, {"LoadBalancer": lb, "TargetGroup": tg}, value, stamp)
            per_target = counts["RequestCount"] / max(1, healthy_now.get((lb, tg), 0))
            STORE.add("AWS/ApplicationELB", "RequestCountPerTarget", {"LoadBalancer": lb, "TargetGroup": tg}, per_target, stamp)
            STORE.add("AWS/ApplicationELB", "RequestCountPerTarget", {"TargetGroup": tg}, per_target, stamp)
        for dims, aggregate in times.items():
            dimensions = {"LoadBalancer": dims[0], **({"TargetGroup": dims[1]} if len(dims) > 1 else {})}
            STORE.add_aggregate("AWS/ApplicationELB", "TargetResponseTime", dimensions, aggregate, stamp, unit="Seconds")
        for (lb_arn, tg_arn), samples in self.health.items():
            dimensions = {"LoadBalancer": _lb_dimension(lb_arn), "TargetGroup": _tg_dimension(tg_arn)}
            for index, name in ((0, "HealthyHostCount"), (1, "UnHealthyHostCount")):
                aggregate = Aggregate()
                for sample in samples:
                    aggregate.add(sample[index])
                if samples:
                    STORE.add_aggregate("AWS/ApplicationELB", name, dimensions, aggregate, stamp)
        self.health.clear()
        self._flush_cpu(stamp)
        self._flush_groups(stamp)

    def _flush_cpu(self, stamp: float) -> None:
        groups = self.fleet.instance_groups()
        detailed = self.fleet.detailed_monitoring()
        warming = _not_aggregated(set(groups.values()))
        by_group: dict[str, Aggregate] = defaultdict(Aggregate)
        for instance_id, samples in list(self.cpu_busy.items()):
            if not samples:
                continue
            # Basic monitoring: one datapoint every 5 minutes, the average of the 5.
            if not detailed.get(instance_id, False) and minute(stamp) % 300 != 240:
                continue
            value = 100.0 * sum(samples) / len(samples)
            self.cpu_busy[instance_id] = []
            STORE.add("AWS/EC2", "CPUUtilization", {"InstanceId": instance_id}, value, stamp, unit="Percent")
            if instance_id in groups and instance_id not in warming:
                by_group[groups[instance_id]].add(value)
        for group_name, aggregate in by_group.items():
            STORE.add_aggregate("AWS/EC2", "CPUUtilization", {"AutoScalingGroupName": group_name}, aggregate, stamp,
                                unit="Percent")
        for gone in set(self.cpu) - set(self.fleet.running_instances()):
            self.cpu.pop(gone, None)
            self.cpu_busy.pop(gone, None)
            self.cgroups.pop(gone, None)

    @staticmethod
    def _flush_groups(stamp: float) -> None:
        from moto.autoscaling.models import autoscaling_backends

        for regions in list(autoscaling_backends.values()):
            for backend in list(regions.values()):
                for group in list(backend.autoscaling_groups.values()):
                    enabled = list(getattr(group, "metrics", None) or [])
                    if not enabled:
                        continue
                    states = Counter(s.lifecycle_state for s in group.instance_states)
                    values = {"GroupMinSize": group.min_size, "GroupMaxSize": group.max_size,
                              "GroupDesiredCapacity": group.desired_capacity or 0,
                              "GroupInServiceInstances": states["InService"], "GroupPendingInstances": states["Pending"],
                              "GroupStandbyInstances": states["Standby"],
                              "GroupTerminatingInstances": states["Terminating"],
                              "GroupTotalInstances": sum(states.values())}
                    for name in GROUP_METRICS:
                        if name in enabled or "All" in enabled:
                            STORE.add("AWS/AutoScaling", name, {"AutoScalingGroupName": group.name}, values[name], stamp,
                                      unit="None")


def _not_aggregated(names: set[str]) -> set[str]:
    """Instances of these groups still in their default instance warmup: their CPUUtilization is
    published by InstanceId but not yet in the group's aggregate (services/scaling.py)."""
    from moto.autoscaling.models import autoscaling_backends
    from services import scaling

    found: set[str] = set()
    for regions in list(autoscaling_backends.values()):
        for backend in list(regions.values()):
            for group in list(backend.autoscaling_groups.values()):
                if group.name in names:
                    found |= scaling.not_aggregated(group)
    return found


def _lb_dimension(arn: str) -> str:
    """app/<name>/<id>, the LoadBalancer dimension of an ALB's ARN."""
    return arn.split(":loadbalancer/", 1)[-1]


def _tg_dimension(arn: str) -> str:
    """targetgroup/<name>/<id>, the TargetGroup dimension of a target group's ARN."""
    return arn.rsplit(":", 1)[-1]


def _cpu_quota(cgroup: Path | None) -> float | None:
    """The CPUs a container may use (its CFS quota), None when unbounded (cgroup v1 or v2)."""
    if cgroup is None:
        return None
    try:
        v1 = Path("/sys/fs/cgroup/cpu") / str(cgroup).lstrip("/")
        if (v1 / "cpu.cfs_quota_us").exists():
            quota, period = int((v1 / "cpu.cfs_quota_us").read_text()), int((v1 / "cpu.cfs_period_us").read_text())
        else:
            text = (Path("/sys/fs/cgroup") / str(cgroup).lstrip("/") / "cpu.max").read_text().split()
            quota, period = (-1 if text[0] == "max" else int(text[0])), int(text[1])
    except (OSError, ValueError, IndexError):
        return None
    return quota / period if quota > 0 and period > 0 else None


def _cpu_ns(cgroup: Path | None) -> float | None:
    """CPU time a container has used, in nanoseconds (cgroup v1 cpuacct or v2 cpu.stat)."""
    if cgroup is None:
        return None
    try:
        v1 = Path("/sys/fs/cgroup/cpuacct") / str(cgroup).lstrip("/") / "cpuacct.usage"
        if v1.exists():
            return float(v1.read_text())
        v2 = Path("/sys/fs/cgroup") / str(cgroup).lstrip("/") / "cpu.stat"
        for line in v2.read_text().splitlines():
            if line.startswith("usage_usec "):
                return float(line.split()[1]) * 1000
    except (OSError, ValueError):
        return None
    return None


# --------------------------------------------------------------------------- moto's answers
def install() -> None:
    """GetMetricStatistics and GetMetricData answer from STORE for the AWS-published namespaces;
    PutMetricData without a timestamp is stamped with the emulated time."""
    from moto.cloudwatch.models import CloudWatchBackend
    from moto.cloudwatch.responses import CloudWatchResponse
    from moto.core.responses import ActionResult

    original_statistics = CloudWatchResponse.get_metric_statistics
    original_data = CloudWatchBackend.get_metric_data
    original_put = CloudWatchBackend.put_metric_data

    def get_metric_statistics(self):
        namespace = self._get_param("Namespace")
        if namespace not in PUBLISHED:
            return original_statistics(self)
        start, end = _epoch(self._get_param("StartTime")), _epoch(self._get_param("EndTime"))
        stats = list(self._get_param("Statistics", []) or [])
        extended = list(self._get_param("ExtendedStatistics", []) or [])
        points = STORE.statistics(namespace, self._get_param("MetricName"), self._get_param("Dimensions", []), start, end,
                                  self._get_int_param("Period"), stats + extended)
        datapoints = []
        for point in points:
            entry = {"Timestamp": point["Timestamp"], "Unit": point["Unit"],
                     **{s: point["values"][s] for s in stats if s in point["values"]}}
            if extended:
                entry["ExtendedStatistics"] = {s: point["values"][s] for s in extended if s in point["values"]}
            datapoints.append(entry)
        return ActionResult({"Label": self._get_param("MetricName"), "Datapoints": datapoints})

    def get_metric_data(self, queries, start_time, end_time, scan_by="TimestampAscending"):
        ours = [q for q in queries if (q.get("MetricStat") or {}).get("Metric", {}).get("Namespace") in PUBLISHED]
        rest = [q for q in queries if q not in ours]
        results = original_data(self, rest, start_time, end_time, scan_by) if rest else []
        for query in ours:
            stat = query["MetricStat"]
            metric = stat["Metric"]
            points = STORE.statistics(metric["Namespace"], metric["MetricName"], metric.get("Dimensions", []),
                                      _epoch(start_time), _epoch(end_time), int(stat["Period"]), [stat["Stat"]])
            points = [p for p in points if stat["Stat"] in p["values"]]
            if scan_by == "TimestampDescending":
                points.reverse()
            if str(query.get("ReturnData", True)).lower() != "false":
                results.append({"id": query["Id"], "label": query.get("Label") or metric["MetricName"],
                                "values": [p["values"][stat["Stat"]] for p in points],
                                "timestamps": [p["Timestamp"] for p in points]})
        return results

    def put_metric_data(self, namespace, metric_data):
        stamped = []
        for datum in metric_data:
            datum = dict(datum)
            datum.setdefault("Timestamp", clock.now().replace(tzinfo=None))
            stamped.append(datum)
        return original_put(self, namespace, stamped)

    CloudWatchResponse.get_metric_statistics = get_metric_statistics
    CloudWatchBackend.get_metric_data = get_metric_data
    CloudWatchBackend.put_metric_data = put_metric_data


def _epoch(value) -> float:
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).timestamp()
    text = str(value)
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC).timestamp()
