#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: sns_topic_encryption
short_description: Encrypt an SNS topic at rest with a KMS key (server-side encryption), or stop
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - Reads the topic's C(KmsMasterKeyId) attribute and sets it (C(SetTopicAttributes)) only when it
    differs from I(kms_master_key_id). community.aws.sns_topic has no option for it.
  - SNS keeps the key as given (key ID, key ARN, alias name or alias ARN), so the same form is
    compared on the next run.
  - A topic CloudWatch alarms or AWS Budgets publish to needs a customer managed key whose key
    policy lets C(cloudwatch.amazonaws.com) and C(budgets.amazonaws.com) use it; the AWS managed
    key C(alias/aws/sns) cannot be given to them (Amazon SNS Developer Guide, "Configuring
    server-side encryption (SSE) for a topic", and "Encryption at rest", key management).
options:
  topic_arn:
    description: ARN of the topic; it must exist.
    type: str
    required: true
  kms_master_key_id:
    description: The KMS key (ID, ARN, C(alias/<name>) or alias ARN); an empty string turns encryption off.
    type: str
    required: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Encrypt the alert topic with the stack's key
  shop.aws.sns_topic_encryption:
    topic_arn: arn:aws:sns:eu-west-1:123456789012:shop-production-alerts
    kms_master_key_id: alias/shop-production-messages
"""

RETURN = r"""
kms_master_key_id:
  description: The topic's key after the run (empty when the topic is not encrypted).
  returned: always
  type: str
  sample: alias/shop-production-messages
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


def main():
    module = AnsibleAWSModule(
        argument_spec={
            "topic_arn": {"type": "str", "required": True},
            "kms_master_key_id": {"type": "str", "required": True},
        },
        supports_check_mode=True,
    )
    topic, wanted = module.params["topic_arn"], module.params["kms_master_key_id"].strip()
    client = calls.client(module, "sns")
    try:
        attributes = client.get_topic_attributes(aws_retry=True, TopicArn=topic)["Attributes"]
    except is_boto3_error_code("NotFound"):
        module.fail_json(msg=f"topic_arn: no SNS topic {topic} (create it first)")
    except AWS_ERRORS as exc:  # pylint: disable=duplicate-except
        module.fail_json_aws(exc, msg=f"Could not read the attributes of {topic}")
    current = attributes.get("KmsMasterKeyId", "")
    if current == wanted:
        module.exit_json(changed=False, kms_master_key_id=current)
    if not module.check_mode:
        try:
            client.set_topic_attributes(aws_retry=True, TopicArn=topic, AttributeName="KmsMasterKeyId",
                                        AttributeValue=wanted)
        except AWS_ERRORS as exc:
            module.fail_json_aws(exc, msg=f"Could not set the KMS key of {topic} to {wanted!r}")
    module.exit_json(changed=True, kms_master_key_id=wanted,
                     diff={"before": {"kms_master_key_id": current}, "after": {"kms_master_key_id": wanted}})


if __name__ == "__main__":
    main()
