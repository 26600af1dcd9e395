#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: cloudwatch_metric_alarms
short_description: Converge a set of CloudWatch metric alarms in one call
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - Reads the named alarms with one C(DescribeAlarms) call and sends C(PutMetricAlarm) only for
    the alarms that are missing or differ from their settings; the others are left untouched.
  - Reports, per alarm, the settings that change (before and after) in the diff.
  - amazon.aws.cloudwatch_metric_alarm converges one alarm per call (two or three API calls each);
    a stack's dozen alarms cost a dozen module runs with it.
  - Alarms not listed are not touched.
options:
  alarms:
    description: The alarms, each a single-metric alarm.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Name of the alarm (unique in the account and region).
        type: str
        required: true
      description:
        description: Description of the alarm.
        type: str
        default: ""
      namespace:
        description: Namespace of the metric (C(AWS/ApplicationELB)).
        type: str
        required: true
      metric_name:
        description: Name of the metric.
        type: str
        required: true
      dimensions:
        description: The metric's dimensions, name to value.
        type: dict
        default: {}
      statistic:
        description: Statistic of the metric. Exactly one of I(statistic) and I(extended_statistic).
        type: str
        choices: [SampleCount, Average, Sum, Minimum, Maximum]
      extended_statistic:
        description: Percentile statistic (C(p95)). Exactly one of I(statistic) and I(extended_statistic).
        type: str
      comparison:
        description: How the statistic is compared with the threshold.
        type: str
        required: true
        choices: [GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold]
      threshold:
        description: The threshold.
        type: float
        required: true
      period:
        description: Seconds over which the statistic is applied (10, 30 or a multiple of 60).
        type: int
        default: 60
      evaluation_periods:
        description: Number of periods evaluated.
        type: int
        required: true
      datapoints_to_alarm:
        description: Breaching data points, among I(evaluation_periods), that set the alarm off. Defaults to I(evaluation_periods).
        type: int
      treat_missing_data:
        description: How periods without data count.
        type: str
        choices: [breaching, notBreaching, ignore, missing]
        default: missing
      alarm_actions:
        description: ARNs notified when the alarm goes off.
        type: list
        elements: str
        default: []
      ok_actions:
        description: ARNs notified when the alarm returns to OK.
        type: list
        elements: str
        default: []
      insufficient_data_actions:
        description: ARNs notified when the alarm has insufficient data.
        type: list
        elements: str
        default: []
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Alarm on the load balancer's 5xx answers and on the database's CPU
  shop.aws.cloudwatch_metric_alarms:
    alarms:
      - name: shop-production-elb-5xx
        description: The load balancer answers 5xx
        namespace: AWS/ApplicationELB
        metric_name: HTTPCode_ELB_5XX_Count
        dimensions: {LoadBalancer: app/shop-production/0123456789abcdef}
        statistic: Sum
        comparison: GreaterThanThreshold
        threshold: 10
        evaluation_periods: 5
        datapoints_to_alarm: 3
        treat_missing_data: notBreaching
        alarm_actions: [arn:aws:sns:eu-west-1:123456789012:shop-production-alerts]
      - name: shop-production-db-cpu
        namespace: AWS/RDS
        metric_name: CPUUtilization
        dimensions: {DBInstanceIdentifier: shop-production-mysql}
        statistic: Average
        comparison: GreaterThanThreshold
        threshold: 80
        period: 300
        evaluation_periods: 3
"""

RETURN = r"""
created:
  description: Names of the alarms created.
  returned: always
  type: list
  elements: str
updated:
  description: Names of the alarms changed, each with its changed settings (before, after).
  returned: always
  type: dict
  sample: {"shop-production-elb-5xx": {"threshold": [10.0, 20.0]}}
unchanged:
  description: Names of the alarms already as set.
  returned: always
  type: list
  elements: str
shop_plan:
  description:
    - The same changes as the plan's entries (read by the shop.aws.plan callback) - for each member to add or
      change, C(action), C(name) and C(attributes) (each C(before), C(after)).
  returned: always
  type: list
  elements: dict
"""

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError

    AWS_ERRORS = (ClientError, BotoCoreError)
except ImportError:
    AWS_ERRORS = ()  # AnsibleAWSModule reports the missing botocore

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.shop.aws.plugins.module_utils import calls
from ansible_collections.shop.aws.plugins.module_utils.sets import SetChanges

# DescribeAlarms takes at most 100 names per call (API reference, DescribeAlarms, AlarmNames).
NAMES_PER_CALL = 100

# Our setting -> the DescribeAlarms/PutMetricAlarm field.
FIELDS = {
    "description": "AlarmDescription",
    "namespace": "Namespace",
    "metric_name": "MetricName",
    "statistic": "Statistic",
    "extended_statistic": "ExtendedStatistic",
    "comparison": "ComparisonOperator",
    "threshold": "Threshold",
    "period": "Period",
    "evaluation_periods": "EvaluationPeriods",
    "datapoints_to_alarm": "DatapointsToAlarm",
    "treat_missing_data": "TreatMissingData",
    "alarm_actions": "AlarmActions",
    "ok_actions": "OKActions",
    "insufficient_data_actions": "InsufficientDataActions",
}


def wanted(alarm):
    """The alarm as DescribeAlarms would return it once put."""
    fields = {
        "AlarmName": alarm["name"],
        "AlarmDescription": alarm.get("description") or "",
        "Namespace": alarm["namespace"],
        "MetricName": alarm["metric_name"],
        "Dimensions": sorted(({"Name": key, "Value": str(value)} for key, value in (alarm.get("dimensions") or {}).items()),
                             key=lambda dimension: dimension["Name"]),
        "ComparisonOperator": alarm["comparison"],
        "Threshold": float(alarm["threshold"]),
        "Period": int(alarm.get("period") or 60),
        "EvaluationPeriods": int(alarm["evaluation_periods"]),
        "DatapointsToAlarm": int(alarm.get("datapoints_to_alarm") or alarm["evaluation_periods"]),
        "TreatMissingData": alarm.get("treat_missing_data") or "missing",
        "AlarmActions": sorted(alarm.get("alarm_actions") or []),
        "OKActions": sorted(alarm.get("ok_actions") or []),
        "InsufficientDataActions": sorted(alarm.get("insufficient_data_actions") or []),
        "ActionsEnabled": True,
    }
    if alarm.get("extended_statistic"):
        fields["ExtendedStatistic"] = alarm["extended_statistic"]
    else:
        fields["Statistic"] = alarm["statistic"]
    return fields


def current(found):
    """The comparable fields of an alarm as DescribeAlarms returns it."""
    fields = {key: found.get(key) for key in (
        "AlarmName", "Namespace", "MetricName", "ComparisonOperator", "Period", "EvaluationPeriods")}
    fields.update({
        "AlarmDescription": found.get("AlarmDescription") or "",
        "Dimensions": sorted(found.get("Dimensions") or [], key=lambda dimension: dimension["Name"]),
        "Threshold": float(found.get("Threshold", 0)),
        # Absent when it was never set: AWS then uses EvaluationPeriods.
        "DatapointsToAlarm": int(found.get("DatapointsToAlarm") or found.get("EvaluationPeriods") or 0),
        "TreatMissingData": found.get("TreatMissingData") or "missing",
        "AlarmActions": sorted(found.get("AlarmActions") or []),
        "OKActions": sorted(found.get("OKActions") or []),
        "InsufficientDataActions": sorted(found.get("InsufficientDataActions") or []),
        "ActionsEnabled": found.get("ActionsEnabled", True),
    })
    for key in ("Statistic", "ExtendedStatistic"):
        if found.get(key):
            fields[key] = found[key]
    return fields


def differences(before, after):
    return {key: [before.get(key), after.get(key)] for key in sorted(set(before) | set(after))
            if before.get(key) != after.get(key)}


def check(alarm, index):
    """The broken rules of one alarm's settings (the API would refuse them)."""
    errors = []
    name = alarm.get("name") or f"#{index}"
    if bool(alarm.get("statistic")) == bool(alarm.get("extended_statistic")):
        errors.append(f"alarms[{index}] ({name}): set exactly one of statistic and extended_statistic")
    period = int(alarm.get("period") or 60)
    if period not in (10, 30) and period % 60:
        errors.append(f"alarms[{index}] ({name}): period must be 10, 30 or a multiple of 60 (got {period})")
    evaluation = int(alarm["evaluation_periods"])
    datapoints = int(alarm.get("datapoints_to_alarm") or evaluation)
    if evaluation < 1 or not 1 <= datapoints <= evaluation:
        errors.append(f"alarms[{index}] ({name}): datapoints_to_alarm must be between 1 and evaluation_periods "
                      f"({evaluation}) (got {datapoints})")
    return errors


class AlarmSet:
    def __init__(self, module):
        self.module = module
        self.client = calls.client(module, "cloudwatch")

    def describe(self, names):
        found = {}
        for start in range(0, len(names), NAMES_PER_CALL):
            response = self.client.describe_alarms(
                aws_retry=True, AlarmNames=names[start:start + NAMES_PER_CALL], AlarmTypes=["MetricAlarm"])
            found.update({alarm["AlarmName"]: alarm for alarm in response.get("MetricAlarms") or []})
        return found

    def put(self, fields):
        self.client.put_metric_alarm(aws_retry=True, **fields)

    def converge(self, alarms):
        found = self.describe([alarm["name"] for alarm in alarms])
        changes = SetChanges()
        for alarm in alarms:
            after = wanted(alarm)
            before = current(found[alarm["name"]]) if alarm["name"] in found else None
            if before is None:
                changes.create(alarm["name"], after)
            elif before == after:
                changes.keep(alarm["name"])
                continue
            else:
                changes.update(alarm["name"], differences(before, after), before, after)
            if not self.module.check_mode:
                self.put(after)
        return changes


def main():
    alarm_spec = {
        "name": {"type": "str", "required": True},
        "description": {"type": "str", "default": ""},
        "namespace": {"type": "str", "required": True},
        "metric_name": {"type": "str", "required": True},
        "dimensions": {"type": "dict", "default": {}},
        "statistic": {"type": "str", "choices": ["SampleCount", "Average", "Sum", "Minimum", "Maximum"]},
        "extended_statistic": {"type": "str"},
        "comparison": {"type": "str", "required": True, "choices": [
            "GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"]},
        "threshold": {"type": "float", "required": True},
        "period": {"type": "int", "default": 60},
        "evaluation_periods": {"type": "int", "required": True},
        "datapoints_to_alarm": {"type": "int"},
        "treat_missing_data": {"type": "str", "default": "missing",
                               "choices": ["breaching", "notBreaching", "ignore", "missing"]},
        "alarm_actions": {"type": "list", "elements": "str", "default": []},
        "ok_actions": {"type": "list", "elements": "str", "default": []},
        "insufficient_data_actions": {"type": "list", "elements": "str", "default": []},
    }
    module = AnsibleAWSModule(
        argument_spec={"alarms": {"type": "list", "elements": "dict", "required": True, "options": alarm_spec}},
        supports_check_mode=True,
    )
    alarms = module.params["alarms"]
    errors = [error for index, alarm in enumerate(alarms) for error in check(alarm, index)]
    names = [alarm["name"] for alarm in alarms]
    errors += [f"alarms: the name {name} is given more than once" for name in sorted({n for n in names if names.count(n) > 1})]
    if errors:
        module.fail_json(msg="; ".join(errors))
    try:
        changes = AlarmSet(module).converge(alarms)
    except AWS_ERRORS as exc:
        module.fail_json_aws(exc, msg="Could not converge the alarms")
    changes.exit(module)


if __name__ == "__main__":
    main()
