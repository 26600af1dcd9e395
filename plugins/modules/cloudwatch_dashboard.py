#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: cloudwatch_dashboard
short_description: Manage a CloudWatch dashboard
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - Creates, updates or deletes a CloudWatch dashboard from its body (the dashboard
    body structure of the CloudWatch API reference).
  - The body is compared as data, not text, so key order and spacing never cause a change.
  - Neither amazon.aws nor community.aws 10.x has a dashboard module.
options:
  name:
    description: Name of the dashboard (letters, digits, C(-) and C(_), at most 255 characters).
    type: str
    required: true
  body:
    description: The dashboard body, as a dict or a JSON string. Required with I(state=present).
    type: json
  state:
    description: Whether the dashboard should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Publish the stack's dashboard
  shop.aws.cloudwatch_dashboard:
    name: shop-production
    body: "{{ lookup('ansible.builtin.template', 'dashboard.json.j2') }}"

- name: Delete it
  shop.aws.cloudwatch_dashboard:
    name: shop-production
    state: absent
"""

RETURN = r"""
dashboard:
  description: The dashboard. Empty after deletion.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the dashboard.
      type: str
      sample: shop-production
    arn:
      description: ARN of the dashboard.
      type: str
      sample: arn:aws:cloudwatch::123456789012:dashboard/shop-production
    body:
      description: The dashboard body, parsed.
      type: dict
      sample: {"widgets": []}
validation_messages:
  description: Warnings CloudWatch returned about the body (the dashboard is still saved).
  returned: when the dashboard was written
  type: list
  elements: dict
  sample: []
"""

import json
import re

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError

    AWS_ERRORS = (ClientError, BotoCoreError)
except ImportError:
    AWS_ERRORS = ()  # AnsibleAWSModule reports the missing botocore

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.shop.aws.plugins.module_utils import calls

NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


def get_dashboard(client, name):
    return client.get_dashboard(aws_retry=True, DashboardName=name)


def put_dashboard(client, name, body):
    return client.put_dashboard(aws_retry=True, DashboardName=name, DashboardBody=body)


def delete_dashboard(client, name):
    client.delete_dashboards(aws_retry=True, DashboardNames=[name])


def parse_body(body):
    """Return the body as data, from a dict or a JSON string; ValueError when it is not JSON."""
    if isinstance(body, dict):
        return body
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def canonical(body):
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


class DashboardManager:
    def __init__(self, module):
        self.module = module
        self.client = calls.client(module, "cloudwatch")
        self.changed = False
        self.validation_messages = None

    def current(self, name):
        try:
            response = get_dashboard(self.client, name)
        except is_boto3_error_code("ResourceNotFound"):
            return None
        except AWS_ERRORS as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg=f"Could not read dashboard {name}")
        return {"name": name, "arn": response.get("DashboardArn", ""), "body": json.loads(response["DashboardBody"])}

    def ensure_present(self, name, body):
        before = self.current(name)
        if before and canonical(before["body"]) == canonical(body):
            return before, before
        self.changed = True
        after = {"name": name, "arn": before["arn"] if before else "", "body": body}
        if not self.module.check_mode:
            try:
                response = put_dashboard(self.client, name, canonical(body))
            except is_boto3_error_code("InvalidParameterInput") as e:
                self.module.fail_json_aws(e, msg=f"body: CloudWatch refused the dashboard body of {name}")
            except AWS_ERRORS as e:  # pylint: disable=duplicate-except
                self.module.fail_json_aws(e, msg=f"Could not write dashboard {name}")
            self.validation_messages = response.get("DashboardValidationMessages", [])
            after = self.current(name) or after
        return before, after

    def ensure_absent(self, name):
        before = self.current(name)
        if before is None:
            return None, None
        self.changed = True
        if not self.module.check_mode:
            try:
                delete_dashboard(self.client, name)
            except is_boto3_error_code("ResourceNotFound"):
                pass
            except AWS_ERRORS as e:  # pylint: disable=duplicate-except
                self.module.fail_json_aws(e, msg=f"Could not delete dashboard {name}")
        return before, None


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        body=dict(type="json"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_if=[["state", "present", ["body"]]],
        supports_check_mode=True,
    )
    name = module.params["name"]
    if not NAME_RE.match(name):
        module.fail_json(msg=f"name: '{name}' must be 1-255 letters, digits, '-' or '_'")
    manager = DashboardManager(module)
    result = {}
    if module.params["state"] == "present":
        try:
            body = parse_body(module.params["body"])
        except ValueError as e:
            module.fail_json(msg=f"body: not a JSON object ({e})")
        if not isinstance(body.get("widgets", []), list):
            module.fail_json(msg="body: 'widgets' must be a list")
        before, after = manager.ensure_present(name, body)
        if manager.validation_messages is not None:
            result["validation_messages"] = manager.validation_messages
    else:
        before, after = manager.ensure_absent(name)
    result.update(changed=manager.changed, dashboard=after or {})
    if module._diff:
        result["diff"] = {"before": before or {}, "after": after or {}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
