#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: autoscaling_group_settings
short_description: Set what amazon.aws.autoscaling_group leaves out on an Auto Scaling group (the default instance warmup)
version_added: 1.1.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - Reads the group and sets C(DefaultInstanceWarmup) only when it differs, with the change
    before and after in the diff. amazon.aws.autoscaling_group has no option for it.
  - The default instance warmup is how long after an instance reaches C(InService) its usage
    data starts counting in the group's aggregated metrics; it keeps a booting instance's
    CPU from driving target tracking, and applies to instance refreshes and scaling policies
    without a warm-up of their own. AWS strongly recommends setting it (EC2 Auto Scaling user
    guide, "Set the default instance warmup for an Auto Scaling group").
  - The group must exist; the module fails naming it otherwise.
options:
  name:
    description: Name of the Auto Scaling group.
    type: str
    required: true
  default_instance_warmup:
    description: Seconds from C(InService) until the instance's metrics count (0 or more).
    type: int
    required: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: New web instances count in the group's metrics three minutes after they serve
  shop.aws.autoscaling_group_settings:
    name: shop-production-web
    default_instance_warmup: 180
"""

RETURN = r"""
default_instance_warmup:
  description: The group's default instance warmup after the run (in check mode, as it would be).
  returned: always
  type: int
  sample: 180
"""

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError

    AWS_ERRORS = (ClientError, BotoCoreError)
except ImportError:
    AWS_ERRORS = ()  # AnsibleAWSModule reports the missing botocore

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.shop.aws.plugins.module_utils import calls


def main():
    module = AnsibleAWSModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "default_instance_warmup": {"type": "int", "required": True},
        },
        supports_check_mode=True,
    )
    name, warmup = module.params["name"], module.params["default_instance_warmup"]
    if warmup < 0:
        module.fail_json(msg=f"default_instance_warmup must be 0 seconds or more (got {warmup})")
    client = calls.client(module, "autoscaling")
    try:
        groups = client.describe_auto_scaling_groups(aws_retry=True, AutoScalingGroupNames=[name])["AutoScalingGroups"]
        if not groups:
            module.fail_json(msg=f"the Auto Scaling group {name} does not exist: create it first")
        before = groups[0].get("DefaultInstanceWarmup")
        changed = before != warmup
        if changed and not module.check_mode:
            client.update_auto_scaling_group(aws_retry=True, AutoScalingGroupName=name, DefaultInstanceWarmup=warmup)
    except AWS_ERRORS as exc:
        module.fail_json_aws(exc, msg=f"Could not set the default instance warmup of {name}")
    module.exit_json(changed=changed, default_instance_warmup=warmup,
                     diff={"before": {"default_instance_warmup": before}, "after": {"default_instance_warmup": warmup}})


if __name__ == "__main__":
    main()
