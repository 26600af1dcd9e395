#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: autoscaling_refresh
short_description: Start, watch, cancel or roll back an Auto Scaling instance refresh
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - Starts an instance refresh towards a desired launch-template version, with the preferences
    a safe rollout needs, watches it, cancels it or rolls it back (EC2 Auto Scaling
    StartInstanceRefresh, DescribeInstanceRefreshes, CancelInstanceRefresh, RollbackInstanceRefresh).
  - C(amazon.aws.autoscaling_instance_refresh) 10.x cannot set a desired configuration,
    checkpoints, alarms or auto rollback, and cannot roll back or wait for progress.
  - I(state=started) is idempotent. While a refresh towards the same launch-template version is
    in progress, it is returned instead of a new one; a refresh towards another one is an error.
  - I(wait_for_change) makes any state wait until the refresh's status or percentage changes, or
    it ends, so that a playbook can show progress as it happens.
options:
  name:
    description: Name of the Auto Scaling group.
    type: str
    required: true
  state:
    description:
      - C(started) starts a refresh (or returns the one in progress towards the same version).
      - C(watched) describes the refresh I(instance_refresh_id) (by default the newest).
      - C(cancelled) cancels the refresh in progress; C(rolled_back) rolls it back.
    type: str
    choices: [started, watched, cancelled, rolled_back]
    default: started
  instance_refresh_id:
    description: The refresh to watch. Default the group's newest.
    type: str
  launch_template:
    description: The desired configuration (required with I(state=started)).
    type: dict
    suboptions:
      id:
        description: Launch template ID.
        type: str
      name:
        description: Launch template name.
        type: str
      version:
        description: A numbered version (rollback is not possible to C($Latest) or C($Default)).
        type: str
        required: true
  preferences:
    description: RefreshPreferences of the EC2 Auto Scaling API reference, snake_case.
    type: dict
    default: {}
    suboptions:
      min_healthy_percentage:
        description: Percentage of the desired capacity that stays healthy (0-100).
        type: int
        default: 90
      max_healthy_percentage:
        description: Most of the desired capacity in service or pending (100-200, at most 100 above the minimum).
        type: int
      instance_warmup:
        description: Seconds a new instance warms up before it counts as updated.
        type: int
      skip_matching:
        description: Leave instances that already match the desired configuration.
        type: bool
        default: true
      checkpoint_percentages:
        description: Percentages at which the refresh pauses for I(checkpoint_delay) seconds (ascending).
        type: list
        elements: int
      checkpoint_delay:
        description: Seconds to pause at each checkpoint.
        type: int
      auto_rollback:
        description: Roll back by itself when the refresh fails or an alarm goes into ALARM.
        type: bool
        default: true
      alarms:
        description: CloudWatch alarm names that fail the refresh when one goes into ALARM.
        type: list
        elements: str
  wait_for_change:
    description: Seconds to wait for the status or the percentage to change (0 returns at once).
    type: int
    default: 0
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Roll the group onto launch-template version 7
  shop.aws.autoscaling_refresh:
    name: shop-production-web
    launch_template: {name: shop-production-web, version: "7"}
    preferences:
      min_healthy_percentage: 100
      max_healthy_percentage: 150
      instance_warmup: 120
      checkpoint_percentages: [50, 100]
      checkpoint_delay: 300
      alarms: [shop-production-target-5xx]
  register: refresh

- name: Wait for progress (up to a minute)
  shop.aws.autoscaling_refresh:
    name: shop-production-web
    state: watched
    instance_refresh_id: "{{ refresh.instance_refresh.instance_refresh_id }}"
    wait_for_change: 60
"""

RETURN = r"""
instance_refresh:
  description: The refresh, as DescribeInstanceRefreshes returns it (snake_case). Empty when the group has none.
  returned: always
  type: dict
  contains:
    instance_refresh_id:
      description: ID of the refresh.
      type: str
    status:
      description: Pending, InProgress, Successful, Failed, Cancelling, Cancelled, RollbackInProgress, RollbackFailed, RollbackSuccessful or Baking.
      type: str
      sample: InProgress
    status_reason:
      description: Why the refresh is in its status, when AWS says.
      type: str
    percentage_complete:
      description: Percentage of the instances replaced, healthy and warmed up.
      type: int
    instances_to_update:
      description: Instances still to replace.
      type: int
    rollback_details:
      description: Reason, start and progress of a rollback.
      type: dict
active:
  description: Whether the refresh is still running (Pending, InProgress, Cancelling, RollbackInProgress, Baking).
  returned: always
  type: bool
"""

import time

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError

    AWS_ERRORS = (ClientError, BotoCoreError)
except ImportError:
    AWS_ERRORS = ()  # AnsibleAWSModule reports the missing botocore

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.shop.aws.plugins.module_utils import calls

ACTIVE = ("Pending", "InProgress", "Cancelling", "RollbackInProgress", "Baking")
POLL = 2.0


def preferences_for_api(prefs):
    """RefreshPreferences from the module's snake_case options, leaving out unset ones."""
    api = {"MinHealthyPercentage": prefs.get("min_healthy_percentage", 90),
           "SkipMatching": prefs.get("skip_matching", True),
           "AutoRollback": prefs.get("auto_rollback", True)}
    for option, key in (("max_healthy_percentage", "MaxHealthyPercentage"), ("instance_warmup", "InstanceWarmup"),
                        ("checkpoint_percentages", "CheckpointPercentages"), ("checkpoint_delay", "CheckpointDelay")):
        if prefs.get(option) is not None:
            api[key] = prefs[option]
    if prefs.get("alarms"):
        api["AlarmSpecification"] = {"Alarms": list(prefs["alarms"])}
    return api


def check_preferences(prefs):
    """The API reference's ranges, checked before any call. Returns an error message or None."""
    low = prefs.get("min_healthy_percentage", 90)
    high = prefs.get("max_healthy_percentage")
    if not 0 <= low <= 100:
        return f"preferences.min_healthy_percentage must be 0-100 (got {low})"
    if high is not None and (not 100 <= high <= 200 or high - low > 100):
        return f"preferences.max_healthy_percentage must be 100-200 and at most 100 above the minimum (got {high})"
    marks = prefs.get("checkpoint_percentages") or []
    if marks and (marks != sorted(marks) or not all(1 <= m <= 100 for m in marks)):
        return f"preferences.checkpoint_percentages must be ascending values in 1-100 (got {marks})"
    for option in ("instance_warmup", "checkpoint_delay"):
        if prefs.get(option) is not None and prefs[option] < 0:
            return f"preferences.{option} must be 0 or more (got {prefs[option]})"
    return None


class Refreshes:
    def __init__(self, module):
        self.module = module
        self.client = calls.client(module, "autoscaling")
        self.group = module.params["name"]

    def describe(self, refresh_id=None):
        kwargs = {"AutoScalingGroupName": self.group}
        if refresh_id:
            kwargs["InstanceRefreshIds"] = [refresh_id]
        try:
            found = self.client.describe_instance_refreshes(aws_retry=True, **kwargs)["InstanceRefreshes"]
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg=f"Could not describe the instance refreshes of {self.group}")
        if refresh_id and not found:
            self.module.fail_json(msg=f"instance_refresh_id: no refresh {refresh_id} for {self.group}")
        return found[0] if found else {}

    def start(self, template, prefs):
        current = self.describe()
        wanted = str(template["version"])
        if current.get("Status") in ACTIVE:
            spec = current.get("DesiredConfiguration", {}).get("LaunchTemplate", {})
            same_template = spec.get("LaunchTemplateName") == template.get("name") or spec.get("LaunchTemplateId") == template.get("id")
            if str(spec.get("Version")) == wanted and same_template:
                return current, False
            self.module.fail_json(msg=f"{self.group} already runs instance refresh {current['InstanceRefreshId']} "
                                      f"towards another configuration ({current['Status']}); cancel it first")
        if self.module.check_mode:
            return {}, True
        spec = {"Version": wanted}
        if template.get("id"):
            spec["LaunchTemplateId"] = template["id"]
        else:
            spec["LaunchTemplateName"] = template["name"]
        try:
            refresh_id = self.client.start_instance_refresh(
                aws_retry=True, AutoScalingGroupName=self.group, Strategy="Rolling",
                DesiredConfiguration={"LaunchTemplate": spec}, Preferences=preferences_for_api(prefs),
            )["InstanceRefreshId"]
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg=f"Could not start an instance refresh of {self.group}")
        return self.describe(refresh_id), True

    def stop(self, rollback):
        current = self.describe()
        if current.get("Status") not in ACTIVE:
            return current, False
        if self.module.check_mode:
            return current, True
        try:
            if rollback:
                self.client.rollback_instance_refresh(aws_retry=True, AutoScalingGroupName=self.group)
            else:
                self.client.cancel_instance_refresh(aws_retry=True, AutoScalingGroupName=self.group)
        except is_boto3_error_code("ActiveInstanceRefreshNotFound"):
            return self.describe(current["InstanceRefreshId"]), False
        except AWS_ERRORS as e:  # pylint: disable=duplicate-except
            action = "roll back" if rollback else "cancel"
            self.module.fail_json_aws(e, msg=f"Could not {action} the instance refresh of {self.group}")
        return self.describe(current["InstanceRefreshId"]), True

    def wait_for_change(self, refresh, seconds):
        if not refresh or seconds <= 0:
            return refresh
        seen = (refresh.get("Status"), refresh.get("PercentageComplete"), refresh.get("StatusReason"))
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and refresh.get("Status") in ACTIVE:
            time.sleep(min(POLL, max(0.0, deadline - time.monotonic())))
            refresh = self.describe(refresh["InstanceRefreshId"])
            if (refresh.get("Status"), refresh.get("PercentageComplete"), refresh.get("StatusReason")) != seen:
                break
        return refresh


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["started", "watched", "cancelled", "rolled_back"], default="started"),
        instance_refresh_id=dict(type="str"),
        launch_template=dict(type="dict", options=dict(
            id=dict(type="str"), name=dict(type="str"), version=dict(type="str", required=True))),
        preferences=dict(type="dict", default={}, options=dict(
            min_healthy_percentage=dict(type="int", default=90),
            max_healthy_percentage=dict(type="int"),
            instance_warmup=dict(type="int"),
            skip_matching=dict(type="bool", default=True),
            checkpoint_percentages=dict(type="list", elements="int"),
            checkpoint_delay=dict(type="int"),
            auto_rollback=dict(type="bool", default=True),
            alarms=dict(type="list", elements="str"),
        )),
        wait_for_change=dict(type="int", default=0),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, required_if=[["state", "started", ["launch_template"]]],
                              supports_check_mode=True)
    params = module.params
    refreshes = Refreshes(module)
    state = params["state"]
    changed = False
    if state == "started":
        template = params["launch_template"]
        if bool(template.get("id")) == bool(template.get("name")):
            module.fail_json(msg="launch_template: give exactly one of id and name")
        if not str(template["version"]).isdigit():
            module.fail_json(msg=f"launch_template.version must be a version number (got {template['version']}): "
                                 "a refresh to $Latest or $Default cannot be rolled back")
        error = check_preferences(params["preferences"])
        if error:
            module.fail_json(msg=error)
        refresh, changed = refreshes.start(template, params["preferences"])
    elif state == "watched":
        refresh = refreshes.describe(params["instance_refresh_id"])
    else:
        refresh, changed = refreshes.stop(rollback=state == "rolled_back")
    refresh = refreshes.wait_for_change(refresh, params["wait_for_change"])
    module.exit_json(changed=changed, instance_refresh=camel_dict_to_snake_dict(refresh),
                     active=refresh.get("Status") in ACTIVE)


if __name__ == "__main__":
    main()
