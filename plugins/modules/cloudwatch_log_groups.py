#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: cloudwatch_log_groups
short_description: Converge a set of CloudWatch Logs groups (retention and tags) in one call
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - Lists the groups under the names' common prefixes (one C(DescribeLogGroups) per prefix),
    reads their tags, and creates the missing groups, sets the retention and the tags only
    where they differ. Reports each change, before and after, in the diff.
  - amazon.aws.cloudwatchlogs_log_group converges one group per call.
  - Groups not listed are not touched, and no group is deleted.
options:
  names:
    description: Names of the log groups.
    type: list
    elements: str
    required: true
  retention:
    description: Days the events are kept (one of the values CloudWatch Logs accepts); omitted, they are kept forever.
    type: int
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The web tier's log groups, kept a week
  shop.aws.cloudwatch_log_groups:
    names:
      - /shop-production/web/nginx-access
      - /shop-production/web/nginx-error
    retention: 7
    tags:
      Stack: shop-production
"""

RETURN = r"""
created:
  description: Names of the groups created.
  returned: always
  type: list
  elements: str
updated:
  description: Names of the groups changed, each with what changed (C(retention), C(tags)).
  returned: always
  type: dict
  sample: {"/shop-production/web/app": ["retention"]}
unchanged:
  description: Names of the groups already as set.
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

import os

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError

    AWS_ERRORS = (ClientError, BotoCoreError)
except ImportError:
    AWS_ERRORS = ()  # AnsibleAWSModule reports the missing botocore

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.shop.aws.plugins.module_utils import calls
from ansible_collections.shop.aws.plugins.module_utils.sets import SetChanges
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

# The values PutRetentionPolicy accepts (API reference, PutRetentionPolicy, retentionInDays).
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
                  3288, 3653)


def prefixes(names):
    """The narrowest prefixes that list every name: the names' common prefix per first path part."""
    groups = {}
    for name in names:
        groups.setdefault(name.lstrip("/").split("/", 1)[0], []).append(name)
    return sorted(os.path.commonprefix(members) for members in groups.values())


class LogGroupSet:
    def __init__(self, module):
        self.module = module
        self.client = calls.client(module, "logs")

    def read(self, names):
        wanted = set(names)
        found = {}
        for prefix in prefixes(names):
            for group in calls.paginate(self.client, "describe_log_groups", logGroupNamePrefix=prefix)["logGroups"]:
                if group["logGroupName"] in wanted:
                    found[group["logGroupName"]] = {"retention": group.get("retentionInDays")}
        for name in found:
            found[name]["tags"] = self.client.list_tags_log_group(aws_retry=True, logGroupName=name).get("tags", {})
        return found

    def converge(self, names, retention, tags, purge_tags):
        found = self.read(names)
        changes = SetChanges()
        for name in names:
            before = found.get(name)
            if before is None:
                changes.create(name, {"retention": retention, "tags": tags or {}})
                if not self.module.check_mode:
                    request = {"logGroupName": name}
                    if tags:
                        request["tags"] = tags
                    self.client.create_log_group(aws_retry=True, **request)
                    if retention:
                        self.client.put_retention_policy(aws_retry=True, logGroupName=name, retentionInDays=retention)
                continue
            add, remove = ({}, []) if tags is None else compare_aws_tags(before["tags"], tags, purge_tags)
            changed = (["retention"] if before["retention"] != retention else []) + (["tags"] if add or remove else [])
            if not changed:
                changes.keep(name)
                continue
            changes.update(name, changed, before,
                           {"retention": retention, "tags": tags if tags is not None else before["tags"]})
            if self.module.check_mode:
                continue
            if "retention" in changed:
                if retention:
                    self.client.put_retention_policy(aws_retry=True, logGroupName=name, retentionInDays=retention)
                else:
                    self.client.delete_retention_policy(aws_retry=True, logGroupName=name)
            if remove:
                self.client.untag_log_group(aws_retry=True, logGroupName=name, tags=remove)
            if add:
                self.client.tag_log_group(aws_retry=True, logGroupName=name, tags=add)
        return changes


def main():
    module = AnsibleAWSModule(
        argument_spec={
            "names": {"type": "list", "elements": "str", "required": True},
            "retention": {"type": "int"},
            "tags": {"type": "dict", "aliases": ["resource_tags"]},
            "purge_tags": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    retention = module.params["retention"]
    if retention is not None and retention not in RETENTION_DAYS:
        module.fail_json(msg=f"retention must be one of {', '.join(map(str, RETENTION_DAYS))} days (got {retention})")
    names = list(dict.fromkeys(module.params["names"]))
    try:
        changes = LogGroupSet(module).converge(names, retention, module.params["tags"], module.params["purge_tags"])
    except AWS_ERRORS as exc:
        module.fail_json_aws(exc, msg="Could not converge the log groups")
    changes.exit(module)


if __name__ == "__main__":
    main()
