"""Dynamic scaling in the emulator: target tracking policies that own their CloudWatch alarms and
change the desired capacity when those alarms invoke them, after the EC2 Auto Scaling user guide
("Target tracking scaling policies for Amazon EC2 Auto Scaling", "Set the default instance
warmup for an Auto Scaling group"), where moto 5.2 only stores the policy:

- PutScalingPolicy (TargetTrackingScaling) creates two alarms the policy owns, as AWS does:
  ``TargetTracking-<group>-AlarmHigh-<id>``, the metric above the target for 3 datapoints of one
  minute, and (unless DisableScaleIn) ``...-AlarmLow-<id>``, the metric below 90 % of the target
  for 15 datapoints; DescribePolicies lists them; re-putting the policy updates them in place;
  deleting the policy, or the group, deletes them;
- invoked by its high alarm (each minute it stays in ALARM: alarms.py), the policy sets the
  capacity that brings the metric to the target: ceil(instances counted x metric / target)
  ("scales out proportionally to the metric as fast as it can"). Instances still in their
  warm-up (the policy's EstimatedInstanceWarmup, else the group's DefaultInstanceWarmup) are
  not counted in the metric; they count in the current capacity, so a scale-out under way is
  not repeated;
- invoked by its low alarm, it scales in only when no instance is warming up and every target
  tracking policy of the group with scale-in enabled is ready to (its low alarm in ALARM), to
  the largest capacity any of them asks for (the guide: it scales in more gradually, and with
  several policies it scales out when any is ready to, in only when all of them are), and only
  on a minute of data that began after the group's last change of size;
- the desired capacity stays within MinSize and MaxSize; scaled-in instances are deregistered,
  drained and terminated (autoscaling.retire), newest launch-template version kept, oldest
  instances first (termination policy OldestLaunchTemplate, then OldestInstance as a stand-in
  for Default's "closest to the next billing hour");
- SimpleScaling and StepScaling policies invoked by an alarm apply their adjustment (moto's
  ExecutePolicy), honouring a simple policy's cooldown.

Every decision is logged and kept in the group's activities (``shop_activities``) for the
benchmarks. Times are the emulator's (clock.py).
"""

from __future__ import annotations

import logging
import math
import threading
import uuid

import clock

log = logging.getLogger("awsemu.scaling")

# Predefined metrics (PredefinedMetricSpecification, EC2 Auto Scaling API reference):
# namespace, metric, statistic, dimensions from (group name, resource label).
PREDEFINED = {
    "ASGAverageCPUUtilization": ("AWS/EC2", "CPUUtilization", "Average",
                                 lambda group, label: {"AutoScalingGroupName": group}),
    "ASGAverageNetworkIn": ("AWS/EC2", "NetworkIn", "Average", lambda group, label: {"AutoScalingGroupName": group}),
    "ASGAverageNetworkOut": ("AWS/EC2", "NetworkOut", "Average", lambda group, label: {"AutoScalingGroupName": group}),
    # resource label app/<lb>/<id>/targetgroup/<tg>/<id>: the metric is by target group.
    "ALBRequestCountPerTarget": ("AWS/ApplicationELB", "RequestCountPerTarget", "Sum",
                                 lambda group, label: {"TargetGroup": "targetgroup/" + label.split("/targetgroup/", 1)[-1]}),
}
HIGH_DATAPOINTS, LOW_DATAPOINTS, LOW_FRACTION = 3, 15, 0.9
LOCK = threading.RLock()
FLEET = None  # fleet.Fleet with --fleet: its instances are in service once their container is up


def _cloudwatch(backend):
    from moto.cloudwatch.models import cloudwatch_backends

    return cloudwatch_backends[backend.account_id][backend.region_name]


def _config(policy) -> dict:
    return dict(vars(policy.target_tracking_configuration or {}))


def metric_of(policy) -> tuple[str, str, str, dict] | None:
    """The namespace, metric, statistic and dimensions a target tracking policy follows."""
    config = _config(policy)
    predefined = config.get("PredefinedMetricSpecification") or {}
    if predefined:
        found = PREDEFINED.get(predefined.get("PredefinedMetricType"))
        if not found:
            return None
        namespace, name, statistic, dimensions = found
        return namespace, name, statistic, dimensions(policy.auto_scaling_group_name, predefined.get("ResourceLabel") or "")
    custom = config.get("CustomizedMetricSpecification") or {}
    if custom.get("MetricName"):
        dims = {d["Name"]: d["Value"] for d in custom.get("Dimensions") or []}
        return custom["Namespace"], custom["MetricName"], custom.get("Statistic", "Average"), dims
    return None


def target_of(policy) -> float:
    return float(_config(policy).get("TargetValue", 0))


def scale_in_disabled(policy) -> bool:
    return str(_config(policy).get("DisableScaleIn", "false")).lower() == "true"


def own_alarms(backend, policy) -> None:
    """Create or update the alarms a target tracking policy owns."""
    cloudwatch = _cloudwatch(backend)
    previous = dict(getattr(policy, "shop_alarm_names", None) or {})  # a re-put policy keeps its alarms' names
    found = metric_of(policy)
    if found is None:  # a metric the emulator does not know: no alarm, and none left of a former one
        drop_alarms(backend, policy)
        policy.shop_alarm_names, policy.alarms = {}, []
        return
    namespace, name, statistic, dimensions = found
    target = target_of(policy)
    wanted = {"High": ("GreaterThanThreshold", target, HIGH_DATAPOINTS)}
    if not scale_in_disabled(policy):
        wanted["Low"] = ("LessThanThreshold", round(target * LOW_FRACTION, 6), LOW_DATAPOINTS)
    names = {}
    for side, (operator, threshold, datapoints) in wanted.items():
        alarm_name = previous.get(side) or f"TargetTracking-{policy.auto_scaling_group_name}-Alarm{side}-{uuid.uuid4()}"
        cloudwatch.put_metric_alarm(
            name=alarm_name, namespace=namespace, metric_name=name, comparison_operator=operator,
            evaluation_periods=datapoints, period=60, threshold=threshold, statistic=statistic,
            description=f"DO NOT EDIT OR DELETE. For TargetTrackingScaling policy {policy.arn}.",
            dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()], alarm_actions=[policy.arn],
            datapoints_to_alarm=datapoints)
        names[side] = alarm_name
    for side, alarm_name in previous.items():
        if side not in names:
            cloudwatch.delete_alarms([alarm_name])
    policy.shop_alarm_names = names
    policy.alarms = [{"AlarmName": n, "AlarmARN": cloudwatch.alarms[n].alarm_arn} for n in names.values()]


def drop_alarms(backend, policy) -> None:
    names = list((getattr(policy, "shop_alarm_names", None) or {}).values())
    if names:
        _cloudwatch(backend).delete_alarms(names)


# ---------------------------------------------------------------------- deciding
def warming(group, policy=None) -> set[str]:
    """Instances of the group still in their warm-up, in emulated seconds."""
    warmup = getattr(policy, "estimated_instance_warmup", None) if policy is not None else None
    if warmup in (None, ""):
        # The group's default instance warmup (0 is a warm-up of its own), else its cooldown.
        default = getattr(group, "default_instance_warmup", None)
        warmup = default if default is not None else (group.default_cooldown or 0)
    now = clock.timestamp()
    found = set()
    for state in serving(group):
        instance = state.instance
        since = getattr(instance, "shop_launched_emulated", 0.0)
        if FLEET is not None and FLEET.manages(group.autoscaling_backend.ec2_backend, instance.id):
            # Still booting is EC2's "pending": not in service yet, so its warm-up has not begun.
            since = getattr(instance, "shop_up_emulated", None)
        if since is None or now - since < float(warmup):
            found.add(instance.id)
    return found


def not_aggregated(group) -> set[str]:
    """Instances whose usage data stays out of the group's aggregated metrics: with a default
    instance warmup, those not yet InService and those within it since (EC2 Auto Scaling UG, "Set
    the default instance warmup for an Auto Scaling group"); without one, none."""
    if getattr(group, "default_instance_warmup", None) is None:
        return set()
    return warming(group)


def serving(group) -> list:
    return [s for s in group.instance_states if s.lifecycle_state in ("Pending", "InService")]


def proposed(group, policy, cloudwatch) -> int | None:
    """The capacity that brings the policy's metric to its target, from its latest complete
    minute, over the instances past their warm-up (None without data)."""
    import alarms  # the emulator's own module, beside this package

    found = metric_of(policy)
    target = target_of(policy)
    if found is None or target <= 0:
        return None
    namespace, name, statistic, dimensions = found
    warm = warming(group, policy)
    counted = [s.instance.id for s in serving(group) if s.instance.id not in warm]
    if not counted:
        return None
    now = clock.timestamp()

    def latest(dims: dict) -> float | None:
        return alarms.values(namespace, name, statistic, dims, 60, 1, now, cloudwatch.account_id,
                             cloudwatch.region_name)[-1]

    if namespace == "AWS/EC2" and set(dimensions) == {"AutoScalingGroupName"}:
        # The group's average over the instances counted: each one's own datapoint.
        each = [v for v in (latest({"InstanceId": i}) for i in counted) if v is not None]
        value = sum(each) / len(each) if each else latest(dimensions)
    else:
        value = latest(dimensions)
    if value is None:
        return None
    return max(0, math.ceil(round(len(counted) * value / target, 6)))


def invoke(policy_arn: str, alarm) -> None:
    """An alarm invokes a scaling policy (alarms.py, once a minute while it is in ALARM)."""
    from moto.autoscaling.models import autoscaling_backends

    try:
        _, _, _, region, account, rest = policy_arn.split(":", 5)
        group_name = rest.split("autoScalingGroupName/", 1)[1].split(":policyName/", 1)[0]
        policy_name = rest.split(":policyName/", 1)[1]
    except (ValueError, IndexError):
        log.warning("alarm %s: %s is not a scaling policy ARN", alarm.name, policy_arn)
        return
    backend = autoscaling_backends[account][region]
    policy = backend.policies.get(policy_name)
    group = backend.autoscaling_groups.get(group_name)
    if policy is None or group is None:
        return
    with LOCK:
        if policy.policy_type == "TargetTrackingScaling":
            _track(backend, group, policy, alarm)
        else:
            _adjust(backend, group, policy, alarm)


def _activity(group, cause: str, before: int, after: int) -> None:
    log.info("%s: desired capacity %s -> %s: %s", group.name, before, after, cause)
    group.shop_resized_emulated = clock.timestamp()
    group.__dict__.setdefault("shop_activities", []).append(
        {"time": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"), "from": before, "to": after, "cause": cause})


def _track(backend, group, policy, alarm) -> None:
    cloudwatch = _cloudwatch(backend)
    current = int(group.desired_capacity or 0)
    low = alarm.name == (getattr(policy, "shop_alarm_names", None) or {}).get("Low")
    if not low:
        wanted = proposed(group, policy, cloudwatch)
        if wanted is None:
            return
        new = min(int(group.max_size), max(wanted, current))
        if new > current:
            _activity(group, f"policy {policy.name}: alarm {alarm.name} in ALARM, metric over the target "
                             f"{target_of(policy):g}: capacity {current} -> {new}", current, new)
            backend.set_desired_capacity(group.name, new)
        return
    if warming(group, policy):
        return  # not while instances warm up
    # Only on a minute of data that began after the group's last change of size: the removed
    # instances' share of the load must show on those left before more go (the aim of
    # EC2 Auto Scaling's cooldowns, UG "Scaling cooldowns": no further change before the effects
    # of the last one are visible). Without it, two policies' low alarms invoked in the same
    # minute removed instances twice on the same datapoint.
    if clock.timestamp() // 60 * 60 - 60 < getattr(group, "shop_resized_emulated", -math.inf):
        return
    policies = [p for p in backend.policies.values() if p.auto_scaling_group_name == group.name
                and p.policy_type == "TargetTrackingScaling" and not scale_in_disabled(p)]
    asks = []
    for other in policies:
        low_name = (getattr(other, "shop_alarm_names", None) or {}).get("Low")
        low_alarm = cloudwatch.alarms.get(low_name) if low_name else None
        if low_alarm is None or low_alarm.state_value != "ALARM":
            return  # a policy is not ready to scale in
        wanted = proposed(group, other, cloudwatch)
        if wanted is None:
            return
        asks.append(wanted)
    new = max(int(group.min_size), max(asks, default=current))
    if new < current:
        _activity(group, f"policies {', '.join(p.name for p in policies)}: every low alarm in ALARM: "
                         f"capacity {current} -> {new}", current, new)
        scale_in(group, current - new)


def _adjust(backend, group, policy, alarm) -> None:
    """Simple and step scaling: the adjustment, after a simple policy's cooldown."""
    now = clock.timestamp()
    if policy.policy_type == "SimpleScaling":
        last = getattr(group, "shop_last_simple", {}).get(policy.name, -math.inf)
        if now - last < float(policy.cooldown or group.default_cooldown or 300):
            return
        group.__dict__.setdefault("shop_last_simple", {})[policy.name] = now
    before = int(group.desired_capacity or 0)
    policy.execute()
    after = int(group.desired_capacity or 0)
    if after != before:
        _activity(group, f"policy {policy.name} invoked by alarm {alarm.name}", before, after)


def scale_in(group, count: int) -> None:
    """Lower the desired capacity by ``count``: the instances chosen are drained, then terminated."""
    from . import autoscaling

    def version(state) -> int:
        number = str((state.launch_template or {}).get("Version", "0"))
        return int(number) if number.isdigit() else 0

    candidates = [s for s in group.instance_states if s.lifecycle_state == "InService" and not s.protected_from_scale_in]
    candidates.sort(key=lambda s: (version(s), getattr(s.instance, "shop_launched_at", 0.0)))
    chosen = [s.instance for s in candidates[:count]]
    if not chosen:
        return
    group.desired_capacity = max(int(group.min_size), int(group.desired_capacity or 0) - len(chosen))
    for state in group.instance_states:
        if state.instance in chosen:
            state.lifecycle_state = "Terminating"
    threading.Thread(target=autoscaling.retire, args=(group, chosen), name=f"scale-in-{group.name}", daemon=True).start()


# ---------------------------------------------------------------------- install
def install(backend_class) -> None:
    original_put = backend_class.put_scaling_policy
    original_delete = backend_class.delete_policy
    original_delete_group = backend_class.delete_auto_scaling_group

    def put_scaling_policy(self, name, policy_type, *args, **kwargs):
        previous = self.policies.get(name)
        policy = original_put(self, name, policy_type, *args, **kwargs)
        if previous is not None:
            policy.shop_alarm_names = getattr(previous, "shop_alarm_names", None)
        if policy_type == "TargetTrackingScaling":
            own_alarms(self, policy)
        elif previous is not None:
            drop_alarms(self, previous)
        return policy

    def delete_policy(self, name):
        policy = self.policies.get(name)
        if policy is not None:
            drop_alarms(self, policy)
        original_delete(self, name)

    def delete_auto_scaling_group(self, group_name):
        original_delete_group(self, group_name)
        # Deleting a group deletes its scaling policies (EC2 Auto Scaling UG, "Delete your Auto
        # Scaling infrastructure"), and so the alarms they own.
        for name in [n for n, p in self.policies.items() if p.auto_scaling_group_name == group_name]:
            drop_alarms(self, self.policies.pop(name))

    backend_class.put_scaling_policy = put_scaling_policy
    backend_class.delete_policy = delete_policy
    backend_class.delete_auto_scaling_group = delete_auto_scaling_group
