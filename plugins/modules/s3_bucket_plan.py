#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: s3_bucket_plan
short_description: What amazon.aws.s3_bucket would change on one bucket, as a plan entry; changes nothing
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - amazon.aws.s3_bucket has no check mode, so a check run skips it and a plan would not show a
    bucket to add, change or destroy. This module reads the one bucket named (no listing of the
    account's buckets) - its versioning, default encryption, object ownership, public access
    block, policy and tags - compares them with the settings given, the same options as
    amazon.aws.s3_bucket's, and returns what would change as a diff and a C(shop_plan) entry for
    the shop.aws.plan callback. It never writes, in check mode or not.
  - An option left unset is not compared, as amazon.aws.s3_bucket leaves it alone.
options:
  name:
    description: The bucket.
    type: str
    required: true
  state:
    description: Whether the run would keep the bucket (C(present)) or delete it (C(absent)).
    type: str
    choices: [present, absent]
    default: present
  versioning:
    description: Whether versioning is enabled.
    type: bool
  encryption:
    description: The default encryption (C(AES256) or C(aws:kms)).
    type: str
  object_ownership:
    description: The object ownership rule.
    type: str
    choices: [BucketOwnerEnforced, BucketOwnerPreferred, ObjectWriter]
  public_access:
    description: The public access block, its four settings (an unset one counts as false, as amazon.aws.s3_bucket sends it).
    type: dict
  policy:
    description: The bucket policy (a JSON document or a dict); compared as policies, not as text.
    type: json
  tags:
    description: The bucket's tags.
    type: dict
  purge_tags:
    description: Whether tags not in I(tags) would be removed.
    type: bool
    default: true
  force:
    description: With I(state=absent), whether the run deletes the objects with the bucket (noted in the entry).
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Predict the static bucket's changes (amazon.aws.s3_bucket skips check runs)
  when: ansible_check_mode
  shop.aws.s3_bucket_plan:
    name: shop-production-static
    versioning: true
    encryption: AES256
    public_access:
      block_public_acls: true
      ignore_public_acls: true
      block_public_policy: true
      restrict_public_buckets: true
    tags:
      Stack: shop-production
"""

RETURN = r"""
shop_plan:
  description:
    - The bucket's entry for the shop.aws.plan callback - C(action) (add, change or destroy), C(resource)
      (amazon.aws.s3_bucket), C(name) and C(attributes) (each C(before), C(after)) - or none when the bucket is as set.
  returned: always
  type: dict
exists:
  description: Whether the bucket exists.
  returned: always
  type: bool
"""

import json

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError

    AWS_ERRORS = (ClientError, BotoCoreError)
except ImportError:
    AWS_ERRORS = ()  # AnsibleAWSModule reports the missing botocore

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags
from ansible_collections.shop.aws.plugins.module_utils import calls

PUBLIC_ACCESS = {"block_public_acls": "BlockPublicAcls", "ignore_public_acls": "IgnorePublicAcls",
                 "block_public_policy": "BlockPublicPolicy", "restrict_public_buckets": "RestrictPublicBuckets"}
# The error codes S3 answers when a bucket has no such configuration (S3 API Reference:
# GetBucketEncryption, GetBucketOwnershipControls, GetPublicAccessBlock, GetBucketPolicy,
# GetBucketTagging).
MISSING = {
    "encryption": "ServerSideEncryptionConfigurationNotFoundError",
    "object_ownership": "OwnershipControlsNotFoundError",
    "public_access": "NoSuchPublicAccessBlockConfiguration",
    "policy": "NoSuchBucketPolicy",
    "tags": "NoSuchTagSet",
}


class Bucket:
    def __init__(self, module):
        self.module = module
        self.name = module.params["name"]
        self.client = calls.client(module, "s3")

    def exists(self):
        try:
            self.client.head_bucket(aws_retry=True, Bucket=self.name)
            return True
        except is_boto3_error_code(["404", "NoSuchBucket", "NotFound"]):
            return False

    def _read(self, setting, call):
        try:
            return call()
        except is_boto3_error_code(MISSING[setting]):
            return None

    def versioning(self):
        return self.client.get_bucket_versioning(aws_retry=True, Bucket=self.name).get("Status") == "Enabled"

    def encryption(self):
        answer = self._read("encryption", lambda: self.client.get_bucket_encryption(aws_retry=True, Bucket=self.name))
        rules = (answer or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules") or [{}]
        return rules[0].get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm")

    def object_ownership(self):
        answer = self._read("object_ownership",
                            lambda: self.client.get_bucket_ownership_controls(aws_retry=True, Bucket=self.name))
        rules = (answer or {}).get("OwnershipControls", {}).get("Rules") or [{}]
        return rules[0].get("ObjectOwnership")

    def public_access(self):
        answer = self._read("public_access", lambda: self.client.get_public_access_block(aws_retry=True, Bucket=self.name))
        block = (answer or {}).get("PublicAccessBlockConfiguration", {})
        return {option: bool(block.get(key, False)) for option, key in PUBLIC_ACCESS.items()}

    def policy(self):
        answer = self._read("policy", lambda: self.client.get_bucket_policy(aws_retry=True, Bucket=self.name))
        return json.loads(answer["Policy"]) if answer else None

    def tags(self):
        answer = self._read("tags", lambda: self.client.get_bucket_tagging(aws_retry=True, Bucket=self.name))
        return {tag["Key"]: tag["Value"] for tag in (answer or {}).get("TagSet", [])}

    def objects(self):
        return self.client.list_objects_v2(aws_retry=True, Bucket=self.name, MaxKeys=1).get("KeyCount", 0)


def wanted_settings(params):
    """The settings given, in the shape compared (an unset option is not compared)."""
    wanted = {key: params[key] for key in ("versioning", "encryption", "object_ownership", "tags") if params[key] is not None}
    if params["public_access"] is not None:
        wanted["public_access"] = {option: bool(params["public_access"].get(option, False)) for option in PUBLIC_ACCESS}
    if params["policy"] is not None:
        wanted["policy"] = json.loads(params["policy"]) if isinstance(params["policy"], str) else params["policy"]
    return wanted


def differences(found, wanted, purge_tags=True):
    """{setting: {before, after}} for each setting that would change."""
    changes = {}
    for key, value in wanted.items():
        if key == "policy":
            differs = found.get(key) is None or compare_policies(found[key], value)
        elif key == "tags":
            add, remove = compare_aws_tags(found.get(key) or {}, value, purge_tags)
            differs = bool(add or remove)
        else:
            differs = found.get(key) != value
        if differs:
            changes[key] = {"before": found.get(key), "after": value}
    return changes


def main():
    module = AnsibleAWSModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "versioning": {"type": "bool"},
            "encryption": {"type": "str"},
            "object_ownership": {"type": "str", "choices": ["BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"]},
            "public_access": {"type": "dict"},
            "policy": {"type": "json"},
            "tags": {"type": "dict"},
            "purge_tags": {"type": "bool", "default": True},
            "force": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    params = module.params
    unknown = sorted(set(params["public_access"] or {}) - set(PUBLIC_ACCESS))
    if unknown:
        module.fail_json(msg=f"public_access: unknown setting(s) {unknown}; it takes {sorted(PUBLIC_ACCESS)}")
    bucket = Bucket(module)
    entry = {"resource": "amazon.aws.s3_bucket", "name": params["name"]}
    try:
        exists = bucket.exists()
        wanted = wanted_settings(params)
        if params["state"] == "absent":
            if exists:
                objects = bucket.objects()
                entry.update(action="destroy", attributes={})
                if objects:
                    entry["note"] = ("with its objects (force)" if params["force"]
                                     else "it holds objects: the delete fails unless forced")
        elif not exists:
            entry.update(action="add", attributes={key: {"before": None, "after": value} for key, value in wanted.items()})
        else:
            found = {key: getattr(bucket, key)() for key in wanted}
            attributes = differences(found, wanted, params["purge_tags"])
            if attributes:
                entry.update(action="change", attributes=attributes)
    except AWS_ERRORS as exc:
        module.fail_json_aws(exc, msg=f"Could not read the bucket {params['name']}")
    if "action" not in entry:
        module.exit_json(changed=False, exists=exists, shop_plan=None)
    attributes = entry["attributes"]
    module.exit_json(changed=True, exists=exists, shop_plan=entry,
                     diff={"before": {key: change["before"] for key, change in attributes.items()} or ({"state": "present"} if exists else {}),
                           "after": {key: change["after"] for key, change in attributes.items()} if entry["action"] != "destroy" else {}})


if __name__ == "__main__":
    main()
