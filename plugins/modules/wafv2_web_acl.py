#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: wafv2_web_acl
short_description: Converge a WAFv2 web ACL (its rules as the API takes them) and its logging
version_added: 1.1.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - Creates, updates or deletes a WAFv2 web ACL found by O(name) and O(scope). The rules are
    given in the API's own shape (C(Rule) of the WAFv2 API Reference), so every statement the
    API accepts (managed rule groups, rate-based rules, ...) can be used; an update sends the
    whole web ACL with the lock token just read, and is retried when another writer took it
    (C(WAFOptimisticLockException)).
  - A setting differs when a value given in O(rules), O(default_action), O(description) or the
    visibility differs from the web ACL's; keys the API adds are ignored. The diff shows the web
    ACL before and after, and RV(changes) names the parts that differ.
  - With O(log_destination), the web ACL's logging configuration sends its logs there (a
    CloudWatch Logs group or bucket whose name starts with C(aws-waf-logs-), or a Firehose
    stream); an empty string removes the logging configuration.
  - A web ACL for CloudFront (O(scope=CLOUDFRONT)) lives in us-east-1 (WAFv2 API Reference,
    C(Scope)), so give O(region=us-east-1).
  - Deleting a web ACL still associated with a resource (a distribution whose C(WebACLId) names
    it) fails with a message saying so; detach it first.
options:
  name:
    description: Name of the web ACL (1-128 letters, digits, C(-) and C(_)).
    type: str
    required: true
  scope:
    description: C(CLOUDFRONT) for a distribution, C(REGIONAL) for an ALB, API Gateway, ...
    type: str
    choices: [CLOUDFRONT, REGIONAL]
    default: CLOUDFRONT
  description:
    description: Description of the web ACL.
    type: str
    default: ""
  default_action:
    description: What happens to a request no rule matched.
    type: str
    choices: [allow, block]
    default: allow
  rules:
    description: The rules, each a C(Rule) of the WAFv2 API (C(Name), C(Priority), C(Statement),
      C(Action) or C(OverrideAction), C(VisibilityConfig)).
    type: list
    elements: dict
    default: []
  metric_name:
    description: The web ACL's CloudWatch metric name (default O(name)); sampled requests and metrics are on.
    type: str
  log_destination:
    description: ARN the web ACL's logs go to; empty removes the logging configuration; unset leaves it as it is.
    type: str
  tags:
    description: Tags of a new web ACL, and tags added to an existing one.
    type: dict
    default: {}
  state:
    description: Whether the web ACL should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The shop's web ACL in front of CloudFront
  shop.aws.wafv2_web_acl:
    name: shop-production
    scope: CLOUDFRONT
    region: us-east-1
    rules:
      - Name: common
        Priority: 1
        Statement: {ManagedRuleGroupStatement: {VendorName: AWS, Name: AWSManagedRulesCommonRuleSet}}
        OverrideAction: {None: {}}
        VisibilityConfig: {SampledRequestsEnabled: true, CloudWatchMetricsEnabled: true, MetricName: common}
    log_destination: arn:aws:logs:us-east-1:123456789012:log-group:aws-waf-logs-shop-production
"""

RETURN = r"""
web_acl:
  description: The web ACL (empty after deletion).
  returned: always
  type: dict
  contains:
    arn: {description: Its ARN (what a distribution's WebACLId takes)., type: str}
    id: {description: Its ID., type: str}
    name: {description: Its name., type: str}
    rules: {description: The names of its rules in priority order., type: list, elements: str}
changes:
  description: The parts of the web ACL that differed (C(rules), C(default_action), C(description), C(visibility), C(logging), C(tags)).
  returned: always
  type: list
  elements: str
"""

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError

    AWS_ERRORS = (ClientError, BotoCoreError)
except ImportError:
    AWS_ERRORS = ()  # AnsibleAWSModule reports the missing botocore

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.shop.aws.plugins.module_utils import calls


def covers(current, desired):
    """True when every value given in desired is in current (keys the API adds are ignored)."""
    if isinstance(desired, dict):
        return isinstance(current, dict) and all(covers(current.get(k), v) for k, v in desired.items())
    if isinstance(desired, list):
        return isinstance(current, list) and len(current) == len(desired) and all(
            covers(c, d) for c, d in zip(current, desired, strict=True))
    return current == desired


class WebAclManager:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.client = calls.client(module, "wafv2")
        self.changes = []

    def find(self):
        """The web ACL's summary (Id, ARN, LockToken) by name, or None."""
        marker = None
        while True:
            page = self.client.list_web_acls(aws_retry=True, Scope=self.params["scope"], Limit=100,
                                             **({"NextMarker": marker} if marker else {}))
            for summary in page.get("WebACLs", []):
                if summary["Name"] == self.params["name"]:
                    return summary
            marker = page.get("NextMarker")
            if not marker or not page.get("WebACLs"):
                return None

    def read(self, summary):
        answer = self.client.get_web_acl(aws_retry=True, Name=self.params["name"], Scope=self.params["scope"], Id=summary["Id"])
        return answer["WebACL"], answer["LockToken"]

    def desired(self):
        desired = {
            "DefaultAction": {"Allow": {}} if self.params["default_action"] == "allow" else {"Block": {}},
            "Rules": self.params["rules"],
            "VisibilityConfig": {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True,
                                 "MetricName": self.params["metric_name"] or self.params["name"]},
        }
        if self.params["description"]:  # the API takes 1-256 characters, or none
            desired["Description"] = self.params["description"]
        return desired

    def present(self):
        desired = self.desired()
        summary = self.find()
        if summary is None:
            self.changes = ["created"]
            if self.module.check_mode:
                return {}, {"Name": self.params["name"], **desired}
            tags = [{"Key": k, "Value": str(v)} for k, v in self.params["tags"].items()]
            created = self.client.create_web_acl(aws_retry=True, Name=self.params["name"], Scope=self.params["scope"],
                                                 **desired, **({"Tags": tags} if tags else {}))["Summary"]
            acl, _token = self.read(created)
            self.logging(acl["ARN"])
            return {}, acl
        before, _token = self.read(summary)
        names = {"DefaultAction": "default_action", "Description": "description", "Rules": "rules", "VisibilityConfig": "visibility"}
        self.changes = [names[key] for key, value in desired.items() if not covers(before.get(key), value)]
        after = dict(before, **desired)
        if self.changes and not self.module.check_mode:
            calls.retry_on(["WAFOptimisticLockException"], self.update, summary=summary, desired=desired)
            after, _token = self.read(summary)
        self.tags(before["ARN"])
        self.logging(before["ARN"])
        return before, after

    def update(self, summary, desired):
        # The lock token read just before the write: another writer in between makes the write
        # fail with WAFOptimisticLockException, and retry_on tries again with a fresh token.
        _acl, token = self.read(summary)
        self.client.update_web_acl(aws_retry=True, Name=self.params["name"], Scope=self.params["scope"], Id=summary["Id"], LockToken=token,
                                   **desired)

    def tags(self, arn):
        wanted = {k: str(v) for k, v in self.params["tags"].items()}
        if not wanted:
            return
        have = {t["Key"]: t["Value"] for t in self.client.list_tags_for_resource(aws_retry=True, ResourceARN=arn)
                .get("TagInfoForResource", {}).get("TagList", [])}
        missing = {k: v for k, v in wanted.items() if have.get(k) != v}
        if missing:
            self.changes.append("tags")
            if not self.module.check_mode:
                self.client.tag_resource(aws_retry=True, ResourceARN=arn, Tags=[{"Key": k, "Value": v} for k, v in missing.items()])

    def logging(self, arn):
        destination = self.params["log_destination"]
        if destination is None:
            return
        try:
            current = self.client.get_logging_configuration(aws_retry=True, ResourceArn=arn)["LoggingConfiguration"]
        except is_boto3_error_code("WAFNonexistentItemException"):
            current = None
        have = (current or {}).get("LogDestinationConfigs", [])
        if have == ([destination] if destination else []):
            return
        self.changes.append("logging")
        if self.module.check_mode:
            return
        if destination:
            self.client.put_logging_configuration(aws_retry=True, LoggingConfiguration={
                "ResourceArn": arn, "LogDestinationConfigs": [destination]})
        else:
            self.client.delete_logging_configuration(aws_retry=True, ResourceArn=arn)

    def absent(self):
        summary = self.find()
        if summary is None:
            return {}, {}
        before, token = self.read(summary)
        self.changes = ["deleted"]
        if not self.module.check_mode:
            try:
                self.client.delete_web_acl(aws_retry=True, Name=self.params["name"], Scope=self.params["scope"],
                                           Id=summary["Id"], LockToken=token)
            except is_boto3_error_code("WAFAssociatedItemException") as error:
                message = (f"The web ACL {self.params['name']} is still associated with a resource "
                           "(a distribution's WebACLId names it): detach it first.")
                self.module.fail_json_aws(error, msg=message)
        return before, {}


def summary(acl):
    if not acl:
        return {}
    return {"arn": acl.get("ARN", ""), "id": acl.get("Id", ""), "name": acl.get("Name", ""),
            "rules": [r["Name"] for r in sorted(acl.get("Rules", []), key=lambda r: r.get("Priority", 0))]}


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        scope=dict(type="str", choices=["CLOUDFRONT", "REGIONAL"], default="CLOUDFRONT"),
        description=dict(type="str", default=""),
        default_action=dict(type="str", choices=["allow", "block"], default="allow"),
        rules=dict(type="list", elements="dict", default=[]),
        metric_name=dict(type="str"),
        log_destination=dict(type="str"),
        tags=dict(type="dict", default={}),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    names = [rule.get("Name") for rule in module.params["rules"]]
    if len(set(names)) != len(names) or None in names:
        module.fail_json(msg=f"rules: every rule needs a Name of its own (got {names})")
    manager = WebAclManager(module)
    try:
        before, after = manager.present() if module.params["state"] == "present" else manager.absent()
    except AWS_ERRORS as error:
        module.fail_json_aws(error, msg=f"Could not converge the web ACL {module.params['name']} ({module.params['scope']})")
    result = dict(changed=bool(manager.changes), changes=manager.changes, web_acl=summary(after))
    if module._diff:
        result["diff"] = {"before": before, "after": after}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
