#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: ec2_managed_prefix_list_info
short_description: Find a managed prefix list by name (an AWS-managed one such as CloudFront's origin-facing list)
version_added: 1.1.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - Looks up a prefix list of the region by its name with C(DescribeManagedPrefixLists) and
    returns its ID, owner and maximum number of entries (what a security group rule that
    references it counts against the group's rule quota).
  - Fails, naming the list and the region, when no list has that name.
options:
  name:
    description: The prefix list's name, e.g. C(com.amazonaws.global.cloudfront.origin-facing).
    type: str
    required: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Find CloudFront's origin-facing prefix list
  shop.aws.ec2_managed_prefix_list_info:
    name: com.amazonaws.global.cloudfront.origin-facing
  register: cloudfront_prefix_list
"""

RETURN = r"""
prefix_list:
  description: The prefix list found.
  returned: success
  type: dict
  contains:
    id: {description: Its ID (pl-...)., type: str, sample: pl-3b927c52}
    name: {description: Its name., type: str}
    owner_id: {description: Its owner (AWS for an AWS-managed list)., type: str, sample: AWS}
    max_entries: {description: Its maximum number of entries., type: int, sample: 55}
    address_family: {description: IPv4 or IPv6., type: str}
"""

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
except ImportError:
    pass  # AnsibleAWSModule reports a missing botocore

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.shop.aws.plugins.module_utils import calls


def main():
    module = AnsibleAWSModule(argument_spec=dict(name=dict(type="str", required=True)), supports_check_mode=True)
    name = module.params["name"]
    client = calls.client(module, "ec2")
    try:
        found = calls.paginate(client, "describe_managed_prefix_lists",
                               Filters=[{"Name": "prefix-list-name", "Values": [name]}])["PrefixLists"]
    except is_boto3_error_code("UnauthorizedOperation") as error:
        module.fail_json_aws(error, msg=f"Not allowed to read the prefix list {name} (ec2:DescribeManagedPrefixLists)")
    except (BotoCoreError, ClientError) as error:  # pylint: disable=duplicate-except
        module.fail_json_aws(error, msg=f"Could not read the prefix list {name}")
    if not found:
        module.fail_json(msg=f"No managed prefix list named {name} in {module.region}.")
    prefix_list = found[0]
    module.exit_json(changed=False, prefix_list={
        "id": prefix_list["PrefixListId"], "name": prefix_list["PrefixListName"], "owner_id": prefix_list.get("OwnerId", ""),
        "max_entries": int(prefix_list.get("MaxEntries", 0)), "address_family": prefix_list.get("AddressFamily", "")})


if __name__ == "__main__":
    main()
