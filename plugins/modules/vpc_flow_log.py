#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: vpc_flow_log
short_description: Manage a VPC flow log delivered to CloudWatch Logs
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - Creates, updates the tags of, or deletes the flow log of a VPC, subnet or network
    interface that delivers to one CloudWatch Logs group.
  - A flow log is identified by its resource and its log group. Its traffic type and role
    cannot change in place; a change replaces it (delete, then create).
  - Neither amazon.aws nor community.aws 10.x has a flow log module.
options:
  resource_id:
    description: ID of the VPC (C(vpc-)), subnet (C(subnet-)) or interface (C(eni-)) to log.
    type: str
    required: true
  log_group_name:
    description: CloudWatch Logs group that receives the records.
    type: str
    required: true
  traffic_type:
    description: Which traffic to log.
    type: str
    choices: [ACCEPT, REJECT, ALL]
    default: ALL
  deliver_logs_permission_arn:
    description: ARN of the IAM role that lets the service write to the log group. Required with I(state=present).
    type: str
  max_aggregation_interval:
    description: Seconds over which packets are aggregated into a record.
    type: int
    choices: [60, 600]
    default: 600
  state:
    description: Whether the flow log should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Log all of the VPC's traffic
  shop.aws.vpc_flow_log:
    resource_id: vpc-0123456789abcdef0
    log_group_name: /vpc/shop-production/flow-logs
    deliver_logs_permission_arn: arn:aws:iam::123456789012:role/shop-production-flow-logs
    tags:
      Stack: shop-production

- name: Stop logging it
  shop.aws.vpc_flow_log:
    resource_id: vpc-0123456789abcdef0
    log_group_name: /vpc/shop-production/flow-logs
    state: absent
"""

RETURN = r"""
flow_log:
  description: The flow log, as DescribeFlowLogs returns it. Empty after deletion.
  returned: always
  type: dict
  contains:
    flow_log_id:
      description: ID of the flow log.
      type: str
      sample: fl-0123456789abcdef0
    resource_id:
      description: The logged resource.
      type: str
      sample: vpc-0123456789abcdef0
    traffic_type:
      description: The logged traffic.
      type: str
      sample: ALL
    log_group_name:
      description: The receiving log group.
      type: str
      sample: /vpc/shop-production/flow-logs
    tags:
      description: Tags of the flow log, as a dict.
      type: dict
      sample: {"Stack": "shop-production"}
"""

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError

    AWS_ERRORS = (ClientError, BotoCoreError)
except ImportError:
    AWS_ERRORS = ()  # AnsibleAWSModule reports the missing botocore

import uuid

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.shop.aws.plugins.module_utils import calls
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags


def _resource_type(resource_id):
    prefix = resource_id.split("-", 1)[0]
    return {"vpc": "VPC", "subnet": "Subnet", "eni": "NetworkInterface"}.get(prefix)


def describe_flow_logs(client, resource_id, log_group_name):
    filters = [
        {"Name": "resource-id", "Values": [resource_id]},
        {"Name": "log-group-name", "Values": [log_group_name]},
    ]
    return calls.paginate(client, "describe_flow_logs", Filters=filters)["FlowLogs"]


def create_flow_log(client, resource_id, traffic_type, log_group_name, role_arn, interval, tags, token):
    params = dict(
        # One token for every retry of this create: when an answer is lost and the call is
        # retried, EC2 returns the flow log the first call made instead of refusing a second
        # one (EC2 API reference, "Ensuring idempotency").
        ClientToken=token,
        ResourceIds=[resource_id],
        ResourceType=_resource_type(resource_id),
        TrafficType=traffic_type,
        LogDestinationType="cloud-watch-logs",
        LogGroupName=log_group_name,
        DeliverLogsPermissionArn=role_arn,
        MaxAggregationInterval=interval,
    )
    if tags:
        params["TagSpecifications"] = [{"ResourceType": "vpc-flow-log", "Tags": ansible_dict_to_boto3_tag_list(tags)}]
    result = client.create_flow_logs(aws_retry=True, **params)
    if result.get("Unsuccessful"):
        raise RuntimeError(result["Unsuccessful"][0]["Error"]["Message"])
    return result["FlowLogIds"][0]


def delete_flow_log(client, flow_log_id):
    client.delete_flow_logs(aws_retry=True, FlowLogIds=[flow_log_id])


def update_tags(client, resource_id, to_set, to_unset):
    if to_unset:
        client.delete_tags(aws_retry=True, Resources=[resource_id], Tags=[{"Key": k} for k in to_unset])
    if to_set:
        client.create_tags(aws_retry=True, Resources=[resource_id], Tags=ansible_dict_to_boto3_tag_list(to_set))


def _normalise(flow_log):
    if not flow_log:
        return {}
    tags = boto3_tag_list_to_ansible_dict(flow_log.get("Tags", []))
    result = camel_dict_to_snake_dict({k: v for k, v in flow_log.items() if k != "Tags"})
    result["tags"] = tags
    return result


class FlowLogManager:
    def __init__(self, module):
        self.module = module
        self.client = calls.client(module, "ec2")
        self.changed = False

    def find(self, resource_id, log_group_name):
        try:
            found = describe_flow_logs(self.client, resource_id, log_group_name)
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg="Could not describe the flow logs")
        return found[0] if found else None

    def ensure_present(self, p):
        if not p["deliver_logs_permission_arn"]:
            self.module.fail_json(msg="deliver_logs_permission_arn is required with state=present")
        if _resource_type(p["resource_id"]) is None:
            self.module.fail_json(msg=f"resource_id: '{p['resource_id']}' is not a vpc-, subnet- or eni- ID")
        current = self.find(p["resource_id"], p["log_group_name"])
        replace = current and (
            current.get("TrafficType") != p["traffic_type"]
            or current.get("DeliverLogsPermissionArn") != p["deliver_logs_permission_arn"]
            or current.get("MaxAggregationInterval", 600) != p["max_aggregation_interval"]
        )
        desired_tags = p["tags"] if p["tags"] is not None else None
        if current and not replace:
            current_tags = boto3_tag_list_to_ansible_dict(current.get("Tags", []))
            to_set, to_unset = ({}, [])
            if desired_tags is not None:
                to_set, to_unset = compare_aws_tags(current_tags, desired_tags, p["purge_tags"])
            if to_set or to_unset:
                self.changed = True
                if not self.module.check_mode:
                    try:
                        update_tags(self.client, current["FlowLogId"], to_set, to_unset)
                    except AWS_ERRORS as e:
                        self.module.fail_json_aws(e, msg="Could not update the flow log's tags")
            after = dict(current)
            tags = dict(current_tags)
            tags.update(to_set)
            for key in to_unset:
                tags.pop(key, None)
            after["Tags"] = ansible_dict_to_boto3_tag_list(tags)
            return current, after
        self.changed = True
        predicted = {
            "ResourceId": p["resource_id"],
            "TrafficType": p["traffic_type"],
            "LogGroupName": p["log_group_name"],
            "DeliverLogsPermissionArn": p["deliver_logs_permission_arn"],
            "MaxAggregationInterval": p["max_aggregation_interval"],
            "Tags": ansible_dict_to_boto3_tag_list(desired_tags or {}),
        }
        if self.module.check_mode:
            return current, predicted
        try:
            if replace:
                delete_flow_log(self.client, current["FlowLogId"])
            create_flow_log(
                self.client, p["resource_id"], p["traffic_type"], p["log_group_name"],
                p["deliver_logs_permission_arn"], p["max_aggregation_interval"], desired_tags, uuid.uuid4().hex,
            )
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg="Could not create the flow log")
        except RuntimeError as e:
            self.module.fail_json(msg=f"Could not create the flow log: {e}")
        return current, self.find(p["resource_id"], p["log_group_name"])

    def ensure_absent(self, p):
        current = self.find(p["resource_id"], p["log_group_name"])
        if not current:
            return None, None
        self.changed = True
        if not self.module.check_mode:
            try:
                delete_flow_log(self.client, current["FlowLogId"])
            except is_boto3_error_code("InvalidFlowLogId.NotFound"):
                pass
            except AWS_ERRORS as e:  # pylint: disable=duplicate-except
                self.module.fail_json_aws(e, msg="Could not delete the flow log")
        return current, None


def main():
    argument_spec = dict(
        resource_id=dict(type="str", required=True),
        log_group_name=dict(type="str", required=True),
        traffic_type=dict(type="str", choices=["ACCEPT", "REJECT", "ALL"], default="ALL"),
        deliver_logs_permission_arn=dict(type="str"),
        max_aggregation_interval=dict(type="int", choices=[60, 600], default=600),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    manager = FlowLogManager(module)
    if module.params["state"] == "present":
        before, after = manager.ensure_present(module.params)
    else:
        before, after = manager.ensure_absent(module.params)
    result = dict(changed=manager.changed, flow_log=_normalise(after))
    if module._diff:
        result["diff"] = dict(before=_normalise(before), after=_normalise(after))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
