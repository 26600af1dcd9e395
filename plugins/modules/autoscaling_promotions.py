#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: autoscaling_promotions
short_description: Reconcile promotion windows into one-off Auto Scaling scheduled actions
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - Each promotion becomes two one-off scheduled actions on the group (EC2 Auto Scaling
    PutScheduledUpdateGroupAction, DescribeScheduledActions, DeleteScheduledAction). At the
    start less I(scale_out_minutes), C(<prefix><name>-scale-out) sets the promotion's minimum and
    maximum size (the desired capacity rises to the new minimum). At the end,
    C(<prefix><name>-scale-back) sets I(base_min_size) and I(base_max_size) again.
  - Actions named with I(prefix) that no promotion declares any more are deleted; other
    scheduled actions of the group are left alone.
  - Every promotion is checked before any AWS call, and every broken rule is reported at once.
    A promotion that has ended, overlapping windows (scale-out to end), a floor below the group's
    minimum or a ceiling below its maximum, a time without a UTC offset are refused.
  - EC2 Auto Scaling runs a one-off action once and then deletes it, and refuses a start time in
    the past. An action whose time has passed (a promotion under way) is left alone.
  - C(community.aws.autoscaling_scheduled_action) 10.x cannot create a one-off action (it requires
    a recurrence with I(state=present)).
  - Optionally keeps a predictive scaling policy in forecast-only mode on the group, whose
    forecasts can be compared with the actual load before trusting it to scale.
options:
  name:
    description: Name of the Auto Scaling group.
    type: str
    required: true
  promotions:
    description:
      - The promotions. An empty list (or I(state=absent)) deletes every action named with I(prefix).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Lower-case letters, digits and dashes, at most 63.
        type: str
        required: true
      start:
        description: When the promotion opens, ISO 8601 with a UTC offset (C(2027-11-26T00:00:00+01:00)).
        type: str
        required: true
      end:
        description: When it closes, same format.
        type: str
        required: true
      min_size:
        description: The group's minimum size during the promotion (its floor), at least I(base_min_size).
        type: int
        required: true
      max_size:
        description: The group's maximum size during the promotion (its ceiling), at least I(base_max_size).
        type: int
        required: true
      scale_out_minutes:
        description: How long before the start the group scales out (boot and warm-up of the floor), 0-1440.
        type: int
        default: 30
  base_min_size:
    description: The group's minimum size outside promotions, restored at each end.
    type: int
    required: true
  base_max_size:
    description: The group's maximum size outside promotions.
    type: int
    required: true
  prefix:
    description: Prefix of the scheduled actions this module owns.
    type: str
    default: promotion-
  predictive_forecast_only:
    description:
      - C(true) keeps a predictive scaling policy C(<name>-predictive) in C(ForecastOnly) mode on the
        group (it forecasts, it does not scale); C(false) deletes that policy if it exists.
    type: bool
    default: false
  predictive_target_cpu:
    description: The average CPU utilisation the forecast aims at, 10-90 (with I(predictive_forecast_only)).
    type: int
    default: 50
  state:
    description: C(present) reconciles; C(absent) deletes the actions named with I(prefix) and the predictive policy.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Scale out for Black Friday and back after Cyber Monday
  shop.aws.autoscaling_promotions:
    name: shop-production-web
    base_min_size: 3
    base_max_size: 30
    promotions:
      - name: black-friday-2027
        start: "2027-11-26T00:00:00+01:00"
        end: "2027-11-29T23:59:00+01:00"
        min_size: 12
        max_size: 60
        scale_out_minutes: 45
"""

RETURN = r"""
actions:
  description: The promotions' scheduled actions after the run, in time order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Scheduled action name.
      type: str
    promotion:
      description: The promotion it belongs to.
      type: str
    kind:
      description: C(scale-out) or C(scale-back).
      type: str
    start_time:
      description: When it runs, UTC (C(2027-11-25T22:15:00Z)).
      type: str
    min_size:
      description: MinSize it sets.
      type: int
    max_size:
      description: MaxSize it sets.
      type: int
    past:
      description: Its time has passed; it was left alone.
      type: bool
put:
  description: Names of the actions created or updated (or that would be, in check mode).
  returned: always
  type: list
  elements: str
deleted:
  description: Names of the actions deleted (or that would be).
  returned: always
  type: list
  elements: str
under_way:
  description: Promotions whose scale-out time has passed and whose end has not.
  returned: always
  type: list
  elements: str
predictive_policy:
  description: The forecast-only predictive scaling policy, when there is one after the run.
  returned: always
  type: dict
"""

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError

    AWS_ERRORS = (ClientError, BotoCoreError)
except ImportError:
    AWS_ERRORS = ()  # AnsibleAWSModule reports the missing botocore

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.shop.aws.plugins.module_utils.promotions import PromotionError
from ansible_collections.shop.aws.plugins.module_utils.promotions import comparable
from ansible_collections.shop.aws.plugins.module_utils.promotions import plan
from ansible_collections.shop.aws.plugins.module_utils.promotions import reconcile

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.shop.aws.plugins.module_utils import calls


def _shown(action):
    return {"start_time": comparable(action)["start_time"], "min_size": action["min_size"],
            "max_size": action["max_size"]}


def predictive_config(target_cpu):
    return {"MetricSpecifications": [{"TargetValue": float(target_cpu),
                                      "PredefinedMetricPairSpecification": {"PredefinedMetricType": "ASGCPUUtilization"}}],
            "Mode": "ForecastOnly"}


class Group:
    def __init__(self, module):
        self.module = module
        self.name = module.params["name"]
        self.client = calls.client(module, "autoscaling")

    def exists(self):
        try:
            groups = self.client.describe_auto_scaling_groups(aws_retry=True, AutoScalingGroupNames=[self.name])
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg=f"Could not describe the Auto Scaling group {self.name}")
        return bool(groups["AutoScalingGroups"])

    def actions(self):
        try:
            found = calls.paginate(self.client, "describe_scheduled_actions",
                                   AutoScalingGroupName=self.name)["ScheduledUpdateGroupActions"]
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg=f"Could not describe the scheduled actions of {self.name}")
        return [camel_dict_to_snake_dict(a) for a in found]

    def put(self, action):
        try:
            self.client.put_scheduled_update_group_action(
                aws_retry=True, AutoScalingGroupName=self.name, ScheduledActionName=action["name"],
                StartTime=action["start_time"], MinSize=action["min_size"], MaxSize=action["max_size"])
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg=f"Could not put the scheduled action {action['name']} on {self.name}")

    def delete(self, name):
        try:
            self.client.delete_scheduled_action(aws_retry=True, AutoScalingGroupName=self.name, ScheduledActionName=name)
        except is_boto3_error_code("ValidationError"):
            pass  # already gone: run by AWS in the meantime
        except AWS_ERRORS as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg=f"Could not delete the scheduled action {name} of {self.name}")

    def predictive_policy(self):
        try:
            policies = self.client.describe_policies(aws_retry=True, AutoScalingGroupName=self.name,
                                                     PolicyNames=[f"{self.name}-predictive"])["ScalingPolicies"]
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg=f"Could not describe the scaling policies of {self.name}")
        return policies[0] if policies else None

    def converge_predictive(self, wanted, target_cpu):
        """Returns (changed, the policy after the run or {})."""
        current = self.predictive_policy()
        policy_name = f"{self.name}-predictive"
        if not wanted:
            if current is None:
                return False, {}
            if not self.module.check_mode:
                try:
                    self.client.delete_policy(aws_retry=True, AutoScalingGroupName=self.name, PolicyName=policy_name)
                except AWS_ERRORS as e:
                    self.module.fail_json_aws(e, msg=f"Could not delete the policy {policy_name}")
            return True, {}
        config = predictive_config(target_cpu)
        if current and current.get("PolicyType") == "PredictiveScaling" and _same_forecast(current, config):
            return False, camel_dict_to_snake_dict(current)
        if self.module.check_mode:
            return True, {"policy_name": policy_name, "predictive_scaling_configuration": camel_dict_to_snake_dict(config)}
        try:
            self.client.put_scaling_policy(aws_retry=True, AutoScalingGroupName=self.name, PolicyName=policy_name,
                                           PolicyType="PredictiveScaling", PredictiveScalingConfiguration=config)
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg=f"Could not put the predictive scaling policy {policy_name}")
        return True, camel_dict_to_snake_dict(self.predictive_policy() or {})


def _same_forecast(policy, config):
    have = policy.get("PredictiveScalingConfiguration") or {}
    specs = have.get("MetricSpecifications") or [{}]
    return (have.get("Mode") == config["Mode"]
            and float(specs[0].get("TargetValue", -1)) == config["MetricSpecifications"][0]["TargetValue"]
            and specs[0].get("PredefinedMetricPairSpecification") == config["MetricSpecifications"][0]["PredefinedMetricPairSpecification"])


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        promotions=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            start=dict(type="str", required=True),
            end=dict(type="str", required=True),
            min_size=dict(type="int", required=True),
            max_size=dict(type="int", required=True),
            scale_out_minutes=dict(type="int", default=30),
        )),
        base_min_size=dict(type="int", required=True),
        base_max_size=dict(type="int", required=True),
        prefix=dict(type="str", default="promotion-"),
        predictive_forecast_only=dict(type="bool", default=False),
        predictive_target_cpu=dict(type="int", default=50),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    present = params["state"] == "present"
    if not params["prefix"]:
        module.fail_json(msg="prefix must not be empty: the module deletes the actions it finds under it")
    if not 10 <= params["predictive_target_cpu"] <= 90:
        module.fail_json(msg=f"predictive_target_cpu must be 10-90 (got {params['predictive_target_cpu']})")
    try:
        wanted = plan(params["promotions"] if present else [], params["base_min_size"], params["base_max_size"],
                      prefix=params["prefix"])
    except PromotionError as exc:
        module.fail_json(msg="promotions: " + "; ".join(exc.errors), errors=exc.errors)

    group = Group(module)
    if not group.exists():
        if present and not module.check_mode:
            module.fail_json(msg=f"name: no Auto Scaling group {params['name']} (the compute role creates it)")
        # check mode on a stack not built yet: everything would be created
        put = [a for a in wanted if not a["past"]]
        module.exit_json(changed=bool(put or (present and params["predictive_forecast_only"])), actions=_returned(wanted),
                         put=[a["name"] for a in put], deleted=[], under_way=_under_way(wanted), predictive_policy={})
    existing = group.actions()
    todo = reconcile(wanted, existing, params["prefix"])
    before = {a["scheduled_action_name"]: _shown(a) for a in existing if a["scheduled_action_name"].startswith(params["prefix"])}
    after = {name: shown for name, shown in before.items() if name not in todo["delete"]}
    after.update({a["name"]: _shown(a) for a in todo["put"]})
    if not module.check_mode:
        for name in todo["delete"]:
            group.delete(name)
        for action in todo["put"]:
            group.put(action)
    predictive_changed, policy = group.converge_predictive(present and params["predictive_forecast_only"],
                                                           params["predictive_target_cpu"])
    changed = bool(todo["put"] or todo["delete"] or predictive_changed)
    result = dict(changed=changed, actions=_returned(wanted), put=[a["name"] for a in todo["put"]],
                  deleted=todo["delete"], under_way=_under_way(wanted), predictive_policy=policy)
    if module._diff:
        result["diff"] = {"before": {"scheduled_actions": before}, "after": {"scheduled_actions": after}}
    module.exit_json(**result)


def _returned(actions):
    return [dict(a, start_time=comparable(a)["start_time"]) for a in actions]


def _under_way(actions):
    return sorted({a["promotion"] for a in actions if a["kind"] == "scale-out" and a["past"]})


if __name__ == "__main__":
    main()
