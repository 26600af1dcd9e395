#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: cloudfront_distribution_config
short_description: Converge a CloudFront distribution on a DistributionConfig
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - Creates a CloudFront distribution from I(config), a DistributionConfig in the shape of
    the CloudFront API reference (CamelCase keys, C(Quantity)/C(Items) lists), or brings
    an existing one to it.
  - The distribution is found by its C(CallerReference). Only what I(config) sets is
    compared and changed; everything else (defaults CloudFront fills in, settings made
    elsewhere) is left as it is, so a second run reports no change.
  - M(community.aws.cloudfront_distribution) 10.x compares its own rendering against the
    whole returned configuration and cannot set C(OriginAccessControlId), which is why this
    module exists.
  - With I(state=absent), disables the distribution, waits until it is deployed, and deletes it.
options:
  config:
    description:
      - The DistributionConfig. Must contain C(CallerReference); creating also needs
        C(Origins), C(DefaultCacheBehavior), C(Comment) and C(Enabled).
      - With I(state=absent) only C(CallerReference) is used.
    type: dict
    required: true
  secret_values:
    description:
      - Values in O(config) that must never be printed (an origin custom header's secret value).
        They are compared as given, and replaced with C(********) in everything the module returns
        (its diff, the changed paths, its invocation).
    type: list
    elements: str
    default: []
  wait:
    description: Wait until the distribution is C(Deployed).
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 1800
  state:
    description: Whether the distribution should exist.
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
- name: Converge the shop's distribution
  shop.aws.cloudfront_distribution_config:
    config: "{{ lookup('ansible.builtin.template', 'cloudfront/distribution_config.yml.j2') | from_yaml }}"
    tags:
      Stack: shop-production

- name: Disable and delete it
  shop.aws.cloudfront_distribution_config:
    config:
      CallerReference: shop-production
    wait_timeout: 1800
    state: absent
"""

RETURN = r"""
distribution:
  description: The distribution (snake_case keys), without its configuration. Empty after deletion.
  returned: always
  type: dict
  contains:
    id:
      description: ID of the distribution.
      type: str
      sample: E2EXAMPLE12345
    arn:
      description: ARN of the distribution.
      type: str
      sample: arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE12345
    domain_name:
      description: The distribution's cloudfront.net name.
      type: str
      sample: d111111abcdef8.cloudfront.net
    status:
      description: C(InProgress) or C(Deployed).
      type: str
      sample: InProgress
    tags:
      description: Tags of the distribution, as a dict.
      type: dict
      sample: {"Stack": "shop-production"}
shop_plan:
  description:
    - The change as the shop.aws.plan callback's entry - C(action) (add, change or destroy), C(name) (the
      distribution's comment), C(attributes) (each changed path's C(before), C(after)).
  returned: when changed
  type: dict
changes:
  description: Paths in the configuration that differed from I(config) (empty when none).
  returned: always
  type: list
  elements: str
  sample: ["DefaultCacheBehavior.Compress"]
"""

import copy
import time

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError

    AWS_ERRORS = (ClientError, BotoCoreError)
except ImportError:
    AWS_ERRORS = ()  # AnsibleAWSModule reports the missing botocore

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.shop.aws.plugins.module_utils import calls
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

CREATE_KEYS = ("CallerReference", "Origins", "DefaultCacheBehavior", "Comment", "Enabled")


def changed_values(desired, current, path=""):
    """(path, current value, desired value) where desired (a partial config) is not matched by current."""
    if isinstance(desired, dict):
        if not isinstance(current, dict):
            return [(path or ".", current, desired)]
        found = []
        for key, value in desired.items():
            found.extend(changed_values(value, current.get(key), f"{path}.{key}" if path else key))
        return found
    if isinstance(desired, list):
        if not isinstance(current, list) or len(desired) != len(current):
            return [(path, current, desired)]
        found = []
        for index, (want, have) in enumerate(zip(desired, current, strict=False)):
            found.extend(changed_values(want, have, f"{path}[{index}]"))
        return found
    if desired != current:
        # "" and a missing value mean the same to CloudFront (no OAC, no web ACL, ...).
        if desired in ("", None) and current in ("", None):
            return []
        return [(path, current, desired)]
    return []


def differences(desired, current, path=""):
    """Paths where desired (a partial config) is not matched by current."""
    return [found[0] for found in changed_values(desired, current, path)]


def plan_entry(action, config, current=None):
    """The shop.aws.plan callback's entry: the distribution by its comment, each changed path before -> after."""
    name = (current or {}).get("Comment") or config.get("Comment") or config["CallerReference"]
    changes = changed_values(config, current) if action == "change" else []
    return {"action": action, "resource": "shop.aws.cloudfront_distribution_config", "name": name,
            "attributes": {path: {"before": before, "after": after} for path, before, after in changes}}


def merged(desired, current):
    """current with desired laid over it: dicts merged key by key, lists and values replaced."""
    if isinstance(desired, dict) and isinstance(current, dict):
        result = copy.deepcopy(current)
        for key, value in desired.items():
            result[key] = merged(value, current.get(key))
        return result
    return copy.deepcopy(desired)


def list_distributions(client):
    return calls.paginate(client, "list_distributions").get("DistributionList", {}).get("Items") or []


def get_distribution(client, distribution_id):
    response = client.get_distribution(aws_retry=True, Id=distribution_id)
    return response["Distribution"], response["ETag"]


def create_distribution(client, config, tags):
    if tags:
        response = client.create_distribution_with_tags(
            aws_retry=True,
            DistributionConfigWithTags={"DistributionConfig": config, "Tags": {"Items": ansible_dict_to_boto3_tag_list(tags)}},
        )
    else:
        response = client.create_distribution(aws_retry=True, DistributionConfig=config)
    return response["Distribution"]


def update_distribution(client, distribution_id, config, etag):
    # CloudFront is eventually consistent: the ETag just read may not be current yet everywhere.
    return calls.retry_on(["PreconditionFailed"], client.update_distribution,
                          Id=distribution_id, IfMatch=etag, DistributionConfig=config)["Distribution"]


def delete_distribution(client, distribution_id, etag):
    client.delete_distribution(aws_retry=True, Id=distribution_id, IfMatch=etag)


def list_tags(client, arn):
    return boto3_tag_list_to_ansible_dict(client.list_tags_for_resource(aws_retry=True, Resource=arn)["Tags"].get("Items") or [])


def tag_resource(client, arn, to_set, to_unset):
    if to_unset:
        client.untag_resource(aws_retry=True, Resource=arn, TagKeys={"Items": to_unset})
    if to_set:
        client.tag_resource(aws_retry=True, Resource=arn, Tags={"Items": ansible_dict_to_boto3_tag_list(to_set)})


class DistributionManager:
    def __init__(self, module):
        self.module = module
        self.client = calls.client(module, "cloudfront")
        self.changed = False
        self.changes = []

    def call(self, msg, func, *args):
        try:
            return func(self.client, *args)
        except AWS_ERRORS as e:
            self.module.fail_json_aws(e, msg=msg)

    def find(self, caller_reference):
        for summary in self.call("Could not list the distributions", list_distributions):
            distribution, etag = self.call(f"Could not read distribution {summary['Id']}", get_distribution, summary["Id"])
            if distribution["DistributionConfig"]["CallerReference"] == caller_reference:
                return distribution, etag
        return None, None

    def wait_deployed(self, distribution_id, timeout):
        deadline = time.monotonic() + timeout
        while True:
            distribution, etag = self.call("Could not read the distribution", get_distribution, distribution_id)
            if distribution["Status"] == "Deployed":
                return distribution, etag
            if time.monotonic() > deadline:
                self.module.fail_json(msg=f"Distribution {distribution_id} not deployed after {timeout} s (status {distribution['Status']})")
            time.sleep(15)

    def converge_tags(self, arn, tags, purge):
        if tags is None:
            return None
        current = self.call("Could not read the distribution's tags", list_tags, arn)
        to_set, to_unset = compare_aws_tags(current, tags, purge)
        if to_set or to_unset:
            self.changed = True
            self.changes.append("Tags")
            if not self.module.check_mode:
                self.call("Could not tag the distribution", tag_resource, arn, to_set, to_unset)
        result = dict(current)
        result.update(to_set)
        for key in to_unset:
            result.pop(key, None)
        return result

    def ensure_present(self, config, tags, purge_tags, wait, timeout):
        missing = [k for k in CREATE_KEYS if k not in config]
        distribution, etag = self.find(config["CallerReference"])
        if distribution is None:
            if missing:
                self.module.fail_json(msg=f"config: creating a distribution needs {', '.join(missing)}")
            self.changed = True
            self.changes = ["(new distribution)"]
            if self.module.check_mode:
                return None, {"DistributionConfig": config}, tags or {}
            distribution = self.call("Could not create the distribution", create_distribution, config, tags)
            if wait:
                distribution, _etag = self.wait_deployed(distribution["Id"], timeout)
            return None, distribution, tags or {}
        before = distribution
        self.changes = differences(config, distribution["DistributionConfig"])
        if self.changes:
            self.changed = True
            new_config = merged(config, distribution["DistributionConfig"])
            if not self.module.check_mode:
                distribution = self.call(
                    f"Could not update distribution {distribution['Id']}", update_distribution, distribution["Id"], new_config, etag
                )
            else:
                distribution = dict(distribution, DistributionConfig=new_config)
        current_tags = self.converge_tags(distribution["ARN"], tags, purge_tags)
        if wait and not self.module.check_mode:
            distribution, _etag = self.wait_deployed(distribution["Id"], timeout)
        return before, distribution, current_tags

    def ensure_absent(self, caller_reference, timeout):
        distribution, etag = self.find(caller_reference)
        if distribution is None:
            return None
        self.changed = True
        if self.module.check_mode:
            return distribution
        if distribution["DistributionConfig"]["Enabled"]:
            disabled = dict(distribution["DistributionConfig"], Enabled=False)
            self.call("Could not disable the distribution", update_distribution, distribution["Id"], disabled, etag)
        _distribution, etag = self.wait_deployed(distribution["Id"], timeout)
        self.call("Could not delete the distribution", delete_distribution, distribution["Id"], etag)
        return distribution


def summary(distribution, tags):
    if not distribution:
        return {}
    skipped = ("DistributionConfig", "ActiveTrustedSigners", "ActiveTrustedKeyGroups")
    result = camel_dict_to_snake_dict({k: v for k, v in distribution.items() if k not in skipped})
    result["tags"] = tags or {}
    return result


def main():
    argument_spec = dict(
        config=dict(type="dict", required=True),
        # Ansible masks every value of a no_log option wherever it appears in the result.
        secret_values=dict(type="list", elements="str", default=[], no_log=True),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=1800),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    config = module.params["config"]
    if not config.get("CallerReference"):
        module.fail_json(msg="config: CallerReference is required (it identifies the distribution)")
    manager = DistributionManager(module)
    if module.params["state"] == "present":
        before, after, tags = manager.ensure_present(
            config, module.params["tags"], module.params["purge_tags"], module.params["wait"], module.params["wait_timeout"]
        )
        result = dict(changed=manager.changed, changes=manager.changes, distribution=summary(after, tags))
        if manager.changed:
            result["shop_plan"] = plan_entry("change" if before else "add", config, (before or {}).get("DistributionConfig"))
        if module._diff:
            result["diff"] = {
                "before": (before or {}).get("DistributionConfig", {}),
                "after": after.get("DistributionConfig", {}),
            }
    else:
        before = manager.ensure_absent(config["CallerReference"], module.params["wait_timeout"])
        result = dict(changed=manager.changed, changes=[], distribution={})
        if manager.changed:
            result["shop_plan"] = plan_entry("destroy", config, (before or {}).get("DistributionConfig"))
        if module._diff:
            result["diff"] = {"before": (before or {}).get("DistributionConfig", {}), "after": {}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
