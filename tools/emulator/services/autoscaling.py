"""Auto Scaling in the emulator where moto 5.2 falls short, after the EC2 Auto Scaling API
reference (StartInstanceRefresh, DescribeInstanceRefreshes, CancelInstanceRefresh,
RollbackInstanceRefresh, InstanceRefresh, RefreshPreferences, RollbackDetails) and user guide:

- instance refresh, Rolling strategy: replacements in batches that keep MinHealthyPercentage of
  the desired capacity healthy (terminate, then launch) or, with MaxHealthyPercentage above 100,
  launch before terminating; a replaced instance is deregistered from its target groups and
  drained for the deregistration delay before it terminates; a new one counts once it is
  healthy in every target group (ELB health checks) and its warm-up has passed;
  PercentageComplete and InstancesToUpdate follow; SkipMatching, CheckpointPercentages with
  CheckpointDelay, ScaleInProtectedInstances and StandbyInstances (Ignore), AlarmSpecification
  (any alarm in ALARM fails the refresh), AutoRollback; the group takes the desired
  configuration only when the refresh succeeds; cancel and rollback;
- launches take the group's own launch-template version (moto launches the default one's tags)
  and are spread over the group's subnets, fewest instances per Availability Zone first;
- an instance launched by a group carries what its launch-template version says: metadata
  options, instance profile, block devices, security groups, user data, tags (moto 5.2 gives
  it IMDSv2 "optional" and no profile whatever the template says);
- DisableMetricsCollection (moto 5.2 raises NotImplementedError): "Metrics: If you omit this
  property, all metrics are disabled." (DisableMetricsCollection);
- DescribeAutoScalingGroups returns a group's tags ordered by key, whatever their creation
  order (seen on AWS: terraform-provider-aws#13469);
- Standby: an instance entering it is deregistered from the group's target groups, and
  registered again when it leaves (moto keeps it registered).

A new instance that is still not healthy when its health check grace period ends fails the
refresh (AWS would keep replacing it until the refresh times out; the outcome for the caller is
the same: the refresh fails, and rolls back when AutoRollback is on).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
import time
import uuid
from xml.sax.saxutils import escape

import clock

log = logging.getLogger("awsemu.autoscaling")

ACTIVE = ("Pending", "InProgress", "Cancelling", "RollbackInProgress", "Baking")
ASG_NAME_TAG = "aws:autoscaling:groupName"
XMLNS = "http://autoscaling.amazonaws.com/doc/2011-01-01/"


class Stop(Exception):
    """The refresh ends early: cancelled, rolled back or failed."""

    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def _now() -> dt.datetime:
    return clock.now().replace(microsecond=0)


def _tags(group, instance) -> dict:
    return group.autoscaling_backend.ec2_backend.tags.get(instance.id, {})


def _config(group) -> dict:
    lt = group.ec2_launch_template
    return {"LaunchTemplate": {"LaunchTemplateId": lt.id, "LaunchTemplateName": lt.name,
                               "Version": str(group.launch_template_version)}}


def _version(group, config: dict):
    ec2 = group.autoscaling_backend.ec2_backend
    spec = config["LaunchTemplate"]
    if spec.get("LaunchTemplateId"):
        template = ec2.get_launch_template(spec["LaunchTemplateId"])
    else:
        template = ec2.get_launch_template_by_name(spec["LaunchTemplateName"])
    return template.get_version(spec.get("Version") or "$Default")


def _matches(group, instance, version) -> bool:
    tags = _tags(group, instance)
    return (tags.get("aws:ec2launchtemplate:id") == version.template.id
            and tags.get("aws:ec2launchtemplate:version") == str(version.number)
            and instance.image_id == version.image_id)


def launch(group, count: int, version=None) -> list:
    """Launch ``count`` instances of a launch-template version into the group, spread over its
    subnets: each goes to the Availability Zone that has the fewest of the group's instances."""
    from moto.autoscaling.models import InstanceState

    ec2 = group.autoscaling_backend.ec2_backend
    version = version or group.ec2_launch_template.get_version(group.launch_template_version)
    subnets = [s for s in (group.vpc_zone_identifier or "").split(",") if s]
    launched = []
    for _ in range(count):
        tags = group.get_propagated_tags()
        tags[ASG_NAME_TAG] = group.name
        tags.update(version.instance_tags)
        placement, subnet_id = None, None
        if subnets:
            load = {s: sum(1 for st in group.instance_states
                           if st.instance.subnet_id == s and st.lifecycle_state != "Terminating") for s in subnets}
            subnet_id = min(subnets, key=lambda s: (load[s], subnets.index(s)))
            placement = ec2.get_subnet(subnet_id).availability_zone
        else:
            placement = group.availability_zones[len(group.instance_states) % len(group.availability_zones)]
        data = version.data
        reservation = ec2.run_instances(
            version.image_id, 1, data.get("UserData"), version.security_groups,
            instance_type=version.instance_type, tags={"instance": tags}, placement=placement,
            launch_config=None, is_instance_type_default=False, associate_public_ip=None, subnet_id=subnet_id,
            launch_template={"LaunchTemplateId": version.template.id, "Version": str(version.number)},
            metadata_options=data.get("MetadataOptions") or {},
            ebs_optimized=bool(data.get("EbsOptimized")),
            monitoring_state="enabled" if (data.get("Monitoring") or {}).get("Enabled") else "disabled",
        )
        profile = data.get("IamInstanceProfile") or {}
        for instance in reservation.instances:
            if profile.get("Arn") or profile.get("Name"):
                ec2.associate_iam_instance_profile(instance_id=instance.id,
                                                   iam_instance_profile_name=profile.get("Name"),
                                                   iam_instance_profile_arn=profile.get("Arn"))
            instance.autoscaling_group = group
            instance.shop_launched_at = time.monotonic()
            instance.shop_launched_emulated = clock.timestamp()  # warm-up is counted in AWS's time
            group.instance_states.append(InstanceState(
                instance, protected_from_scale_in=group.new_instances_protected_from_scale_in))
            launched.append(instance)
    if group.name in group.autoscaling_backend.autoscaling_groups:  # not while moto creates the group
        group.autoscaling_backend.update_attached_target_groups(group.name)
    return launched


def _target_groups(group) -> list:
    if not group.target_group_arns:
        return []
    return group.autoscaling_backend.elbv2_backend.describe_target_groups(
        target_group_arns=group.target_group_arns, load_balancer_arn=None, names=None)


def _health(target_group, instance_id: str) -> str:
    ec2 = target_group.ec2_backend
    return target_group.health_for({"Id": instance_id}, ec2).status


def retire(group, instances: list) -> None:
    """Deregister, drain, then terminate: what Auto Scaling does to an instance it replaces or
    scales in (EC2 Auto Scaling UG, "Use Elastic Load Balancing to distribute incoming application
    traffic": the instance is deregistered and terminated once the deregistration delay has run).
    The delay is real time: open requests take what they take."""
    ids = {i.id for i in instances}
    for state in group.instance_states:
        if state.instance.id in ids:
            state.lifecycle_state = "Terminating"
    drain = 0
    for target_group in _target_groups(group):
        registered = [{"Id": i} for i in ids if i in target_group.targets]
        if registered:
            target_group.deregister(registered)
            drain = max(drain, int(target_group.attributes.get("deregistration_delay.timeout_seconds", 300)))
    time.sleep(drain)
    group.instance_states[:] = [s for s in group.instance_states if s.instance.id not in ids]
    group.autoscaling_backend.ec2_backend.terminate_instances(list(ids))


class InstanceRefresh:
    def __init__(self, group, strategy: str, desired: dict | None, preferences: dict):
        self.group = group
        self.id = str(uuid.uuid4())
        self.strategy = strategy or "Rolling"
        self.desired = desired
        self.preferences = preferences
        self.status = "Pending"
        self.status_reason = ""
        self.start_time = _now()
        self.end_time = None
        self.percentage = 0
        self.to_update = 0
        self.rollback_details = None
        self.requested: Stop | None = None
        self.previous = _config(group)
        self.lock = threading.Lock()

    # ------------------------------------------------------------------ API shape
    def describe(self) -> dict:
        found = {
            "InstanceRefreshId": self.id, "AutoScalingGroupName": self.group.name, "Status": self.status,
            "StartTime": self.start_time, "PercentageComplete": self.percentage,
            "InstancesToUpdate": self.to_update, "Strategy": self.strategy,
            "ProgressDetails": {"LivePoolProgress": {"PercentageComplete": self.percentage,
                                                     "InstancesToUpdate": self.to_update}},
            "Preferences": self.preferences,
        }
        if self.status_reason:
            found["StatusReason"] = self.status_reason
        if self.end_time:
            found["EndTime"] = self.end_time
        if self.desired:
            found["DesiredConfiguration"] = self.desired
        if self.rollback_details:
            found["RollbackDetails"] = self.rollback_details
        return found

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    # ------------------------------------------------------------------ requests
    def request(self, stop: Stop) -> None:
        with self.lock:
            self.requested = stop
            if stop.kind == "cancel":
                self.status = "Cancelling"

    def _interrupted(self) -> None:
        with self.lock:
            requested = self.requested
        if requested:
            raise requested
        if self.status == "RollbackInProgress":
            return  # a rollback runs to its end: the alarms that started it are still ringing
        for name in self.preferences.get("AlarmSpecification", {}).get("Alarms", []):
            alarm = self._alarms().get(name)
            if alarm is not None and alarm.state_value == "ALARM":
                raise Stop("fail", f"The alarm {name} is in ALARM state.")

    def _alarms(self) -> dict:
        from moto.cloudwatch.models import cloudwatch_backends

        backend = self.group.autoscaling_backend
        return cloudwatch_backends[backend.account_id][backend.region_name].alarms

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._interrupted()
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))

    # ------------------------------------------------------------------ the work
    def start(self) -> None:
        threading.Thread(target=self._run, name=f"refresh-{self.id[:8]}", daemon=True).start()

    def _run(self) -> None:
        try:
            self.status = "InProgress"
            version = _version(self.group, self.desired) if self.desired else None
            self._replace(version, skip_matching=bool(self.preferences.get("SkipMatching")), checkpoints=True)
            if self.desired:
                spec = self.desired["LaunchTemplate"]
                self.group.launch_template_version = spec.get("Version") or "$Default"
                self.group.provided_launch_template_version = spec.get("Version")
            self._finish("Successful", "")
        except Stop as stop:
            if stop.kind == "cancel":
                self._finish("Cancelled", stop.reason)
            elif stop.kind == "rollback" or self.preferences.get("AutoRollback"):
                self._rollback(stop.reason)
            else:
                self._finish("Failed", stop.reason)
        except Exception as error:  # an emulator fault must not leave the refresh InProgress forever
            log.exception("instance refresh %s failed", self.id)
            self._finish("Failed", f"Emulator error: {error!r}")

    def _finish(self, status: str, reason: str) -> None:
        self.status, self.status_reason, self.end_time = status, reason, _now()
        log.info("instance refresh %s of %s: %s %s", self.id, self.group.name, status, reason)

    def _rollback(self, reason: str) -> None:
        self.rollback_details = {"RollbackReason": reason, "RollbackStartTime": _now(),
                                 "PercentageCompleteOnRollback": self.percentage,
                                 "InstancesToUpdateOnRollback": self.to_update}
        self.status, self.status_reason = "RollbackInProgress", reason
        with self.lock:
            self.requested = None
        try:
            self._replace(_version(self.group, self.previous), skip_matching=True, checkpoints=False)
        except Stop as stop:
            self._finish("RollbackFailed", stop.reason)
            return
        self._finish("RollbackSuccessful", reason)

    def _replace(self, version, skip_matching: bool, checkpoints: bool) -> None:
        group = self.group
        version = version or group.ec2_launch_template.get_version(group.launch_template_version)
        candidates = [s for s in group.instance_states if s.lifecycle_state == "InService"
                      and not s.protected_from_scale_in]
        outdated = [s.instance for s in candidates if not (skip_matching and _matches(group, s.instance, version))]
        capacity = int(group.desired_capacity or 0)
        # Above the desired capacity (a launch-first batch cut short): the outdated extras go
        # without a replacement, so the group ends at its desired capacity.
        excess = min(len(candidates) - capacity, len(outdated))
        if excess > 0:
            self._retire(outdated[:excess])
            outdated = outdated[excess:]
        total = len(outdated)
        self.to_update, self.percentage = total, 0 if total else 100
        if not total:
            return
        min_pct = int(self.preferences.get("MinHealthyPercentage", 90))
        max_pct = int(self.preferences.get("MaxHealthyPercentage", 100))
        min_healthy = math.ceil(capacity * min_pct / 100)
        launch_first = max_pct > 100
        batch = max(1, (capacity * max_pct // 100 - capacity) if launch_first else capacity - min_healthy)
        warmup = self.preferences.get("InstanceWarmup")
        warmup = int(warmup if warmup is not None else (getattr(group, "default_instance_warmup", None) or group.health_check_grace_period or 0))
        marks = sorted(int(p) for p in self.preferences.get("CheckpointPercentages", [])) if checkpoints else []
        delay = int(self.preferences.get("CheckpointDelay", 3600))
        done = 0
        while outdated:
            self._interrupted()
            current, outdated = outdated[:batch], outdated[batch:]
            if launch_first:
                new = launch(group, len(current), version)
                self._await_ready(new, warmup)
                self._retire(current)
            else:
                self._retire(current)
                new = launch(group, len(current), version)
                self._await_ready(new, warmup)
            done += len(current)
            self.to_update = total - done
            self.percentage = done * 100 // total
            reached = [m for m in marks if m <= self.percentage and m < 100]
            if reached and outdated:
                marks = [m for m in marks if m > self.percentage]
                self.status_reason = f"Waiting for checkpoint: {self.percentage}% complete."
                self._sleep(clock.real(delay))
                self.status_reason = ""

    def _retire(self, instances: list) -> None:
        retire(self.group, instances)

    def _await_ready(self, instances: list, warmup: int) -> None:
        group = self.group
        grace = int(group.health_check_grace_period or 0)
        elb = group.health_check_type == "ELB"
        waiting = list(instances)
        while waiting:
            self._interrupted()
            now = time.monotonic()
            for instance in list(waiting):
                states = [_health(tg, instance.id) for tg in _target_groups(group)] if elb else ["healthy"]
                age = now - instance.shop_launched_at
                if all(s == "healthy" for s in states) and age >= clock.real(warmup):
                    waiting.remove(instance)
                elif age > max(grace, 30) and not all(s == "healthy" for s in states):
                    raise Stop("fail", f"Instance {instance.id} did not pass its health checks within the "
                                       f"health check grace period ({grace} s): target state {', '.join(states)}.")
            time.sleep(0.5)


# ---------------------------------------------------------------------- install
def install() -> None:
    from moto.autoscaling.exceptions import AutoscalingClientError, ValidationError
    from moto.autoscaling.models import AutoScalingBackend, FakeAutoScalingGroup, InstanceState
    from moto.autoscaling.responses import AutoScalingResponse

    class InstanceRefreshInProgress(AutoscalingClientError):
        code = "InstanceRefreshInProgress"

    class ActiveInstanceRefreshNotFound(AutoscalingClientError):
        code = "ActiveInstanceRefreshNotFound"

    class IrreversibleInstanceRefresh(AutoscalingClientError):
        code = "IrreversibleInstanceRefresh"

    # An instance's launch template is the version it was launched from (moto 5.2 answers the
    # template's default version for every instance).
    def instance_launch_template(self):
        group = self.auto_scaling_group
        if group is None or group.ec2_launch_template is None:
            return None
        template = group.ec2_launch_template
        tags = group.autoscaling_backend.ec2_backend.tags.get(self.instance.id, {})
        return {"LaunchTemplateId": tags.get("aws:ec2launchtemplate:id", template.id),
                "LaunchTemplateName": template.name,
                "Version": tags.get("aws:ec2launchtemplate:version", str(template.default_version_number))}

    InstanceState.launch_template = property(instance_launch_template)

    original_replace = FakeAutoScalingGroup.replace_autoscaling_group_instances

    def replace_instances(self, count_needed, propagated_tags):
        if not self.ec2_launch_template:
            return original_replace(self, count_needed, propagated_tags)
        launch(self, count_needed)

    FakeAutoScalingGroup.replace_autoscaling_group_instances = replace_instances

    def update_attached_target_groups(self, group_name):
        group = self.autoscaling_groups[group_name]
        serving = {s.instance.id for s in group.instance_states if s.lifecycle_state in ("InService", "Pending")}
        for target_group in _target_groups(group):
            new = [{"Id": i, "Port": target_group.port} for i in serving if i not in target_group.targets]
            if new:
                self.elbv2_backend.register_targets(target_group.arn, new)

    AutoScalingBackend.update_attached_target_groups = update_attached_target_groups

    original_enter = AutoScalingBackend.enter_standby_instances
    original_exit = AutoScalingBackend.exit_standby_instances

    def enter_standby(self, group_name, instance_ids, should_decrement):
        activities = original_enter(self, group_name, instance_ids, should_decrement)
        for target_group in _target_groups(self.autoscaling_groups[group_name]):
            leaving = [{"Id": i} for i in instance_ids if i in target_group.targets]
            if leaving:
                target_group.deregister(leaving)
        return activities

    def exit_standby(self, group_name, instance_ids):
        activities = original_exit(self, group_name, instance_ids)
        self.update_attached_target_groups(group_name)
        return activities

    AutoScalingBackend.enter_standby_instances = enter_standby
    AutoScalingBackend.exit_standby_instances = exit_standby

    _install_default_instance_warmup(AutoScalingResponse)
    _install_scheduled_actions(AutoScalingBackend, ValidationError)
    from . import scaling  # it uses launch() and retire() from here

    scaling.install(AutoScalingBackend)
    _install_metrics_and_tags(AutoScalingBackend, AutoScalingResponse, FakeAutoScalingGroup)

    def group_of(response, name):
        group = response.autoscaling_backend.autoscaling_groups.get(name)
        if group is None:
            raise ValidationError(f"AutoScalingGroup name not found - AutoScalingGroup '{name}' not found")
        return group

    def history(response, name) -> list[InstanceRefresh]:
        """The group's refreshes, newest first (kept on the group: a new group has none)."""
        return group_of(response, name).__dict__.setdefault("shop_refreshes", [])

    def active_of(response, name) -> InstanceRefresh:
        found = [r for r in history(response, name) if r.active]
        if not found:
            raise ActiveInstanceRefreshNotFound(f"No in progress or pending Instance Refresh found for "
                                                f"Auto Scaling group {name}")
        return found[0]

    def start_instance_refresh(self):
        params = _params(self.querystring)
        name = params.get("AutoScalingGroupName", "")
        group = group_of(self, name)
        if any(r.active for r in history(self, name)):
            raise InstanceRefreshInProgress(f"An Instance Refresh is already in progress and blocks the execution "
                                            f"of this Instance Refresh for Auto Scaling group {name}.")
        preferences = _preferences(params.get("Preferences", {}))
        desired = params.get("DesiredConfiguration") or None
        _validate(group, preferences, desired)
        if preferences.get("AutoRollback") and not desired:
            raise ValidationError("AutoRollback requires a DesiredConfiguration.")
        refresh = InstanceRefresh(group, params.get("Strategy", "Rolling"), desired, preferences)
        history(self, name).insert(0, refresh)
        refresh.start()
        return _answer("StartInstanceRefresh", {"InstanceRefreshId": refresh.id})

    def describe_instance_refreshes(self):
        params = _params(self.querystring)
        name = params.get("AutoScalingGroupName", "")
        group_of(self, name)
        wanted = set(params.get("InstanceRefreshIds", []))
        found = [r.describe() for r in history(self, name) if not wanted or r.id in wanted]
        return _answer("DescribeInstanceRefreshes", {"InstanceRefreshes": found})

    def cancel_instance_refresh(self):
        name = _params(self.querystring).get("AutoScalingGroupName", "")
        group_of(self, name)
        refresh = active_of(self, name)
        refresh.request(Stop("cancel", "Cancelled by the user."))
        return _answer("CancelInstanceRefresh", {"InstanceRefreshId": refresh.id})

    def rollback_instance_refresh(self):
        name = _params(self.querystring).get("AutoScalingGroupName", "")
        group_of(self, name)
        refresh = active_of(self, name)
        version = str(refresh.previous["LaunchTemplate"]["Version"])
        if not refresh.desired or version in ("$Latest", "$Default"):
            raise IrreversibleInstanceRefresh(
                "Rollback is not supported: the instance refresh has no desired configuration or the group "
                "uses the $Latest or $Default launch template version.")
        refresh.request(Stop("rollback", "Rollback requested by the user."))
        return _answer("RollbackInstanceRefresh", {"InstanceRefreshId": refresh.id})

    AutoScalingResponse.start_instance_refresh = start_instance_refresh
    AutoScalingResponse.describe_instance_refreshes = describe_instance_refreshes
    AutoScalingResponse.cancel_instance_refresh = cancel_instance_refresh
    AutoScalingResponse.rollback_instance_refresh = rollback_instance_refresh


def _install_default_instance_warmup(response_class) -> None:
    """DefaultInstanceWarmup on CreateAutoScalingGroup and UpdateAutoScalingGroup, which moto 5.2
    ignores: kept on the group (DescribeAutoScalingGroups answers it); on an update, -1 removes it
    ("To remove a value that you previously set, include the property but specify -1 for the
    value", API reference, UpdateAutoScalingGroup). The metrics (metrics.py) and target tracking
    (services/scaling.py) count an instance only after it."""
    from moto.autoscaling.exceptions import ValidationError

    def keep(response, group_name: str) -> None:
        value = response._get_int_param("DefaultInstanceWarmup")
        if value is None:
            return
        if value < -1:
            raise ValidationError(f"DefaultInstanceWarmup must be -1 (none) or more, got {value}")
        group = response.autoscaling_backend.autoscaling_groups.get(group_name)
        if group is not None:
            group.default_instance_warmup = None if value == -1 else value

    for action in ("create_auto_scaling_group", "update_auto_scaling_group"):
        original = getattr(response_class, action)

        def handler(self, original=original):
            result = original(self)
            keep(self, self._get_param("AutoScalingGroupName"))
            return result

        setattr(response_class, action, handler)


def _install_metrics_and_tags(backend_class, response_class, group_class) -> None:
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
    original_describe_asgs = backend_class.describe_auto_scaling_groups

    def describe_auto_scaling_groups(self, *args, **kwargs):
        groups = original_describe_asgs(self, *args, **kwargs)
        for group in groups:
            if isinstance(getattr(group, "tags", None), list):
                group.tags.sort(key=lambda tag: tag.get("Key", tag.get("key", "")))
        return groups

    backend_class.describe_auto_scaling_groups = describe_auto_scaling_groups
    group_class.disable_metrics_collection = group_disable_metrics_collection
    backend_class.disable_metrics_collection = backend_disable_metrics_collection
    response_class.disable_metrics_collection = response_disable_metrics_collection


def _install_scheduled_actions(backend_class, validation_error) -> None:
    """Scheduled actions after the API reference (PutScheduledUpdateGroupAction, DescribeScheduledActions,
    DeleteScheduledAction) and the user guide ("Scheduled scaling"), where moto 5.2 differs:

    - an action's name is unique within its group (moto keys them by name alone: two groups'
      actions of one name overwrite each other);
    - the group must exist; MinSize above MaxSize is refused; "If you try to schedule your action
      in the past, Amazon EC2 Auto Scaling returns an error message";
    - deleting the group deletes its actions;
    - a one-off action runs at its time (MinSize, MaxSize, DesiredCapacity set; the desired
      capacity kept within the new limits) and is then deleted. Due actions run whenever the
      group's actions or the group are described.
    """
    from moto.autoscaling.models import FakeScheduledAction

    def due(self) -> None:
        now = _now()
        for key, action in list(self.scheduled_actions.items()):
            start = _time(action.start_time)
            if action.recurrence or start is None or start > now:
                continue
            del self.scheduled_actions[key]
            group = self.autoscaling_groups.get(action.auto_scaling_group_name)
            if group is None:
                continue
            low = group.min_size if action.min_size is None else action.min_size
            high = group.max_size if action.max_size is None else action.max_size
            desired = group.desired_capacity if action.desired_capacity is None else action.desired_capacity
            group.min_size, group.max_size = low, high
            group.set_desired_capacity(min(high, max(low, desired or 0)))
            log.info("scheduled action %s ran on %s: min %s max %s", action.scheduled_action_name, group.name, low, high)

    def put(self, name, desired_capacity, max_size, min_size, scheduled_action_name, start_time, end_time,
            recurrence, timezone):
        if name not in self.autoscaling_groups:
            raise validation_error(f"AutoScalingGroup name not found - AutoScalingGroup '{name}' not found")
        low, high = (None if v is None else int(v) for v in (min_size, max_size))
        if low is not None and high is not None and low > high:
            raise validation_error(f"MinSize ({low}) must not be greater than MaxSize ({high})")
        start = _time(start_time)
        if start is not None and not recurrence and start <= _now():
            raise validation_error("Given start time is in the past")
        action = FakeScheduledAction(name, None if desired_capacity is None else int(desired_capacity), high, low,
                                     scheduled_action_name, start_time, end_time, recurrence, timezone)
        self.scheduled_actions[(name, scheduled_action_name)] = action
        return action

    def describe(self, autoscaling_group_name=None, scheduled_action_names=None):
        self.run_due_scheduled_actions()
        return [a for (group, name), a in self.scheduled_actions.items()
                if (not autoscaling_group_name or group == autoscaling_group_name)
                and (not scheduled_action_names or name in scheduled_action_names)]

    def delete(self, auto_scaling_group_name, scheduled_action_name):
        if self.scheduled_actions.pop((auto_scaling_group_name, scheduled_action_name), None) is None:
            raise validation_error("Scheduled action name not found")

    original_describe_groups = backend_class.describe_auto_scaling_groups

    def describe_groups(self, *args, **kwargs):
        self.run_due_scheduled_actions()
        return original_describe_groups(self, *args, **kwargs)

    original_delete_group = backend_class.delete_auto_scaling_group

    def delete_group(self, group_name):
        original_delete_group(self, group_name)
        for key in [k for k in self.scheduled_actions if k[0] == group_name]:
            del self.scheduled_actions[key]

    backend_class.run_due_scheduled_actions = due
    backend_class.delete_auto_scaling_group = delete_group
    backend_class.put_scheduled_update_group_action = put
    backend_class.describe_scheduled_actions = describe
    backend_class.delete_scheduled_action = delete
    backend_class.describe_auto_scaling_groups = describe_groups


def _time(value) -> dt.datetime | None:
    if value in (None, ""):
        return None
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _validate(group, preferences: dict, desired: dict | None) -> None:
    from moto.autoscaling.exceptions import ValidationError

    low = preferences.get("MinHealthyPercentage", 90)
    high = preferences.get("MaxHealthyPercentage", 100)
    if not 0 <= low <= 100:
        raise ValidationError("MinHealthyPercentage must be between 0 and 100.")
    if not 100 <= high <= 200 or high - low > 100:
        raise ValidationError("MaxHealthyPercentage must be between 100 and 200, "
                              "at most 100 above MinHealthyPercentage.")
    marks = preferences.get("CheckpointPercentages", [])
    if marks and (marks != sorted(marks) or any(not 1 <= m <= 100 for m in marks)):
        raise ValidationError("CheckpointPercentages must be ascending values between 1 and 100.")
    if desired:
        _version(group, desired)


def _preferences(raw: dict) -> dict:
    ints = ("MinHealthyPercentage", "MaxHealthyPercentage", "InstanceWarmup", "CheckpointDelay")
    bools = ("SkipMatching", "AutoRollback")
    found = {}
    for key, value in raw.items():
        if key in ints:
            found[key] = int(value)
        elif key in bools:
            found[key] = str(value).lower() == "true"
        elif key == "CheckpointPercentages":
            found[key] = [int(v) for v in value]
        else:
            found[key] = value
    found.setdefault("MinHealthyPercentage", 90)
    found.setdefault("SkipMatching", False)
    found.setdefault("AutoRollback", False)
    found.setdefault("ScaleInProtectedInstances", "Ignore")
    found.setdefault("StandbyInstances", "Ignore")
    return found


def _params(querystring: dict) -> dict:
    """Query-protocol parameters (``A.B.member.1=x``) as nested dicts and lists."""
    root: dict = {}
    for key, values in querystring.items():
        if key in ("Action", "Version"):
            continue
        parts = key.split(".")
        node = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if part == "member":
                continue
            if part.isdigit():
                part = int(part)
            if last:
                node[part] = values[0]
            else:
                node = node.setdefault(part, {})
    return _lists(root)


def _lists(node):
    if not isinstance(node, dict):
        return node
    if node and all(isinstance(k, int) for k in node):
        return [_lists(node[k]) for k in sorted(node)]
    return {k: _lists(v) for k, v in node.items()}


def _xml(value, tag: str) -> str:
    if isinstance(value, dict):
        inner = "".join(_xml(v, k) for k, v in value.items())
    elif isinstance(value, list):
        inner = "".join(_xml(v, "member") for v in value)
    elif isinstance(value, bool):
        inner = "true" if value else "false"
    elif isinstance(value, dt.datetime):
        inner = value.strftime("%Y-%m-%dT%H:%M:%SZ")
    else:
        inner = escape(str(value))
    return f"<{tag}>{inner}</{tag}>"


def _answer(action: str, result: dict) -> str:
    body = "".join(_xml(v, k) for k, v in result.items())
    return (f'<{action}Response xmlns="{XMLNS}"><{action}Result>{body}</{action}Result>'
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></{action}Response>")
