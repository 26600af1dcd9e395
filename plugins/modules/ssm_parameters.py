#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ssm_parameters
short_description: Converge a set of plain SSM parameters in one call
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - Reads the named parameters in batches (C(GetParameters), C(DescribeParameters)) and their
    tags, then writes only the parameters that are missing or differ in value, description
    or tags. Reports each change, before and after, in the diff.
  - For settings, not secrets. C(SecureString) is refused; keep secrets in Secrets Manager.
  - community.aws.ssm_parameter converges one parameter per call (five API calls each).
  - Parameters not listed are not touched.
options:
  parameters:
    description: The parameters, name to value.
    type: dict
    required: true
  type:
    description: Type of every parameter.
    type: str
    choices: [String, StringList]
    default: String
  tier:
    description: Tier of every new parameter (an existing parameter keeps its tier; AWS cannot lower it).
    type: str
    choices: [Standard, Advanced, Intelligent-Tiering]
    default: Standard
  description:
    description: Description of every parameter.
    type: str
    default: ""
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Publish the web stack's settings
  shop.aws.ssm_parameters:
    parameters:
      /shop-production/app/region: eu-west-1
      /shop-production/app/db-secret-name: shop-production/db
    tags:
      Stack: shop-production
"""

RETURN = r"""
created:
  description: Names of the parameters created.
  returned: always
  type: list
  elements: str
updated:
  description: Names of the parameters changed, each with what changed (C(value), C(type), C(description), C(tags)).
  returned: always
  type: dict
  sample: {"/shop-production/app/region": ["value"]}
unchanged:
  description: Names of the parameters already as set.
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
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

# GetParameters takes at most 10 names, DescribeParameters' Name filter at most 50 values
# (API reference: GetParameters Names; ParameterStringFilter Values).
GET_BATCH = 10
DESCRIBE_BATCH = 50


def batches(items, size):
    return [items[start:start + size] for start in range(0, len(items), size)]


class ParameterSet:
    def __init__(self, module):
        self.module = module
        self.client = calls.client(module, "ssm")

    def read(self, names):
        found = {}
        for batch in batches(names, GET_BATCH):
            for parameter in self.client.get_parameters(aws_retry=True, Names=batch)["Parameters"]:
                found[parameter["Name"]] = {"value": parameter["Value"], "type": parameter["Type"]}
        present = [name for name in names if name in found]
        for batch in batches(present, DESCRIBE_BATCH):
            described = calls.paginate(self.client, "describe_parameters",
                                       ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": batch}])
            for meta in described["Parameters"]:
                if meta["Name"] in found:
                    found[meta["Name"]]["description"] = meta.get("Description", "")
        for name in present:
            tags = self.client.list_tags_for_resource(aws_retry=True, ResourceType="Parameter", ResourceId=name)["TagList"]
            found[name]["tags"] = {tag["Key"]: tag["Value"] for tag in tags}
        return found

    def converge(self, parameters, kind, tier, description, tags, purge_tags):
        names = sorted(parameters)
        found = self.read(names)
        changes = SetChanges()
        for name in names:
            wanted = {"value": str(parameters[name]), "type": kind, "description": description}
            before = found.get(name)
            if before is None:
                changes.create(name, dict(wanted, tags=tags or {}))
                if not self.module.check_mode:
                    request = {"Name": name, "Value": wanted["value"], "Type": kind, "Tier": tier}
                    if description:
                        request["Description"] = description
                    if tags:
                        request["Tags"] = [{"Key": key, "Value": value} for key, value in sorted(tags.items())]
                    self.client.put_parameter(aws_retry=True, **request)
                continue
            changed = [key for key in ("value", "type", "description") if before.get(key, "") != wanted[key]]
            add, remove = ({}, []) if tags is None else compare_aws_tags(before.get("tags", {}), tags, purge_tags)
            if add or remove:
                changed.append("tags")
            if not changed:
                changes.keep(name)
                continue
            changes.update(name, changed, before, dict(wanted, tags=tags if tags is not None else before.get("tags", {})))
            if self.module.check_mode:
                continue
            if set(changed) - {"tags"}:
                self.client.put_parameter(aws_retry=True, Name=name, Value=wanted["value"], Type=kind,
                                          Description=description, Overwrite=True)
            if remove:
                self.client.remove_tags_from_resource(aws_retry=True, ResourceType="Parameter", ResourceId=name, TagKeys=remove)
            if add:
                self.client.add_tags_to_resource(aws_retry=True, ResourceType="Parameter", ResourceId=name,
                                                 Tags=[{"Key": key, "Value": value} for key, value in sorted(add.items())])
        return changes


def main():
    module = AnsibleAWSModule(
        argument_spec={
            "parameters": {"type": "dict", "required": True},
            "type": {"type": "str", "default": "String", "choices": ["String", "StringList"]},
            "tier": {"type": "str", "default": "Standard", "choices": ["Standard", "Advanced", "Intelligent-Tiering"]},
            "description": {"type": "str", "default": ""},
            "tags": {"type": "dict", "aliases": ["resource_tags"]},
            "purge_tags": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    parameters = module.params["parameters"]
    empty = sorted(name for name, value in parameters.items() if value is None or str(value) == "")
    if empty:
        module.fail_json(msg=f"parameters: SSM refuses an empty value; give a value or leave out {', '.join(empty)}")
    try:
        changes = ParameterSet(module).converge(
            parameters, module.params["type"], module.params["tier"], module.params["description"],
            module.params["tags"], module.params["purge_tags"])
    except AWS_ERRORS as exc:
        module.fail_json_aws(exc, msg="Could not converge the SSM parameters")
    changes.exit(module)


if __name__ == "__main__":
    main()
