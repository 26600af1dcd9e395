#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: cloudfront_origin_access_control
short_description: Manage a CloudFront Origin Access Control and attach it to a distribution's S3 origin
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - Creates, updates or deletes a CloudFront Origin Access Control (OAC), the successor of
    the legacy Origin Access Identity, identified by its name (unique in the account).
  - With I(distribution_id) and I(origin_id), also attaches the OAC to that origin of the
    distribution (and clears a legacy OAI on it); with I(state=absent), detaches it first.
  - community.aws 10.x has no OAC module, only M(community.aws.cloudfront_origin_access_identity).
options:
  name:
    description: Name of the OAC, unique in the account (at most 64 characters).
    type: str
    required: true
  description:
    description: Description of the OAC. Left as it is when not given.
    type: str
  origin_type:
    description: Type of origin the OAC signs requests to.
    type: str
    choices: [s3, mediastore, mediapackagev2, lambda]
    default: s3
  signing_behavior:
    description: When CloudFront signs origin requests. C(always) is what an S3 origin needs.
    type: str
    choices: [always, never, no-override]
    default: always
  distribution_id:
    description: ID of a distribution whose origin I(origin_id) uses this OAC.
    type: str
  origin_id:
    description: ID of the origin in I(distribution_id). Required with I(distribution_id).
    type: str
  state:
    description: Whether the OAC should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Create the OAC for the static bucket
  shop.aws.cloudfront_origin_access_control:
    name: shop-production-static
    description: shop-production static files

- name: Create it and attach it to the distribution's S3 origin
  shop.aws.cloudfront_origin_access_control:
    name: shop-production-static
    distribution_id: E2EXAMPLE12345
    origin_id: s3-static

- name: Detach and delete it
  shop.aws.cloudfront_origin_access_control:
    name: shop-production-static
    distribution_id: E2EXAMPLE12345
    origin_id: s3-static
    state: absent
"""

RETURN = r"""
origin_access_control:
  description: The OAC. Empty after deletion.
  returned: always
  type: dict
  contains:
    id:
      description: ID of the OAC (what an origin's C(origin_access_control_id) takes).
      type: str
      sample: E1ABCDEFGHIJKL
    name:
      description: Name of the OAC.
      type: str
      sample: shop-production-static
    description:
      description: Description of the OAC.
      type: str
      sample: shop-production static files
    origin_access_control_origin_type:
      description: Type of origin.
      type: str
      sample: s3
    signing_behavior:
      description: When requests are signed.
      type: str
      sample: always
    signing_protocol:
      description: Signing protocol.
      type: str
      sample: sigv4
attached:
  description: Whether the OAC is attached to I(origin_id) of I(distribution_id) after the run.
  returned: when distribution_id is given
  type: bool
  sample: true
"""

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError

    AWS_ERRORS = (ClientError, BotoCoreError)
except ImportError:
    AWS_ERRORS = ()  # AnsibleAWSModule reports the missing botocore

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.shop.aws.plugins.module_utils import calls


def list_origin_access_controls(client):
    items, marker = [], None
    while True:
        params = {"Marker": marker} if marker else {}
        page = client.list_origin_access_controls(aws_retry=True, **params)["OriginAccessControlList"]
        items.extend(page.get("Items") or [])
        if not page.get("IsTruncated"):
            return items
        marker = page["NextMarker"]


def get_origin_access_control(client, oac_id):
    response = client.get_origin_access_control(aws_retry=True, Id=oac_id)
    return response["OriginAccessControl"], response["ETag"]


def create_origin_access_control(client, config):
    return client.create_origin_access_control(aws_retry=True, OriginAccessControlConfig=config)["OriginAccessControl"]


def update_origin_access_control(client, oac_id, config, etag):
    return client.update_origin_access_control(aws_retry=True, Id=oac_id, IfMatch=etag, OriginAccessControlConfig=config)


def delete_origin_access_control(client, oac_id, etag):
    # Refused while a distribution still uses it, until that distribution's update has deployed.
    calls.retry_on(["OriginAccessControlInUse"], client.delete_origin_access_control, Id=oac_id, IfMatch=etag)


def get_distribution_config(client, distribution_id):
    response = client.get_distribution_config(aws_retry=True, Id=distribution_id)
    return response["DistributionConfig"], response["ETag"]


def update_distribution_config(client, distribution_id, config, etag):
    client.update_distribution(aws_retry=True, Id=distribution_id, IfMatch=etag, DistributionConfig=config)


def desired_config(params, current=None):
    """The OriginAccessControlConfig to send: the task's values over the current ones."""
    current = current or {}
    description = params["description"]
    if description is None:
        description = current.get("Description", "")
    return {
        "Name": params["name"],
        "Description": description,
        "SigningProtocol": "sigv4",
        "SigningBehavior": params["signing_behavior"],
        "OriginAccessControlOriginType": params["origin_type"],
    }


def set_origin_oac(distribution_config, origin_id, oac_id):
    """Return (changed, config) with origin_id pointing at oac_id ('' detaches), without a legacy OAI."""
    origins = (distribution_config.get("Origins") or {}).get("Items") or []
    for origin in origins:
        if origin["Id"] != origin_id:
            continue
        changed = origin.get("OriginAccessControlId", "") != oac_id
        if oac_id and origin.get("S3OriginConfig", {}).get("OriginAccessIdentity"):
            origin["S3OriginConfig"]["OriginAccessIdentity"] = ""
            changed = True
        origin["OriginAccessControlId"] = oac_id
        return changed, distribution_config
    raise KeyError(origin_id)


class OriginAccessControlManager:
    def __init__(self, module):
        self.module = module
        self.client = calls.client(module, "cloudfront")
        self.changed = False

    def fail(self, exc, msg):
        self.module.fail_json_aws(exc, msg=msg)

    def find(self, name):
        try:
            for summary in list_origin_access_controls(self.client):
                if summary["Name"] == name:
                    return get_origin_access_control(self.client, summary["Id"])
        except AWS_ERRORS as e:
            self.fail(e, "Could not list the origin access controls")
        return None, None

    def ensure_present(self, params):
        current, etag = self.find(params["name"])
        if current is None:
            self.changed = True
            config = desired_config(params)
            if self.module.check_mode:
                return None, {"Id": "", "OriginAccessControlConfig": config}
            try:
                return None, create_origin_access_control(self.client, config)
            except AWS_ERRORS as e:
                self.fail(e, "Could not create the origin access control")
        current_config = current["OriginAccessControlConfig"]
        config = desired_config(params, current_config)
        if config == {k: current_config.get(k) for k in config}:
            return current, current
        self.changed = True
        after = {"Id": current["Id"], "OriginAccessControlConfig": config}
        if not self.module.check_mode:
            try:
                update_origin_access_control(self.client, current["Id"], config, etag)
            except AWS_ERRORS as e:
                self.fail(e, "Could not update the origin access control")
        return current, after

    def attach(self, distribution_id, origin_id, oac_id):
        try:
            config, etag = get_distribution_config(self.client, distribution_id)
        except is_boto3_error_code("NoSuchDistribution"):
            self.module.fail_json(msg=f"distribution_id: no distribution {distribution_id}")
        except AWS_ERRORS as e:  # pylint: disable=duplicate-except
            self.fail(e, f"Could not read the configuration of distribution {distribution_id}")
        try:
            changed, config = set_origin_oac(config, origin_id, oac_id)
        except KeyError:
            self.module.fail_json(msg=f"origin_id: distribution {distribution_id} has no origin '{origin_id}'")
        if changed:
            self.changed = True
            if not self.module.check_mode:
                try:
                    update_distribution_config(self.client, distribution_id, config, etag)
                except AWS_ERRORS as e:
                    self.fail(e, f"Could not update the origins of distribution {distribution_id}")
        return changed

    def ensure_absent(self, params):
        current, etag = self.find(params["name"])
        if current is None:
            return None, None
        if params["distribution_id"]:
            self.attach(params["distribution_id"], params["origin_id"], "")
        self.changed = True
        if not self.module.check_mode:
            try:
                _unused, etag = get_origin_access_control(self.client, current["Id"])
                delete_origin_access_control(self.client, current["Id"], etag)
            except is_boto3_error_code("NoSuchOriginAccessControl"):
                pass
            except is_boto3_error_code("OriginAccessControlInUse") as e:  # pylint: disable=duplicate-except
                self.fail(e, "The origin access control is still used by a distribution: give distribution_id and origin_id to detach it")
            except AWS_ERRORS as e:  # pylint: disable=duplicate-except
                self.fail(e, "Could not delete the origin access control")
        return current, None


def flatten(oac):
    if not oac:
        return {}
    result = {"id": oac.get("Id", "")}
    result.update(camel_dict_to_snake_dict(oac.get("OriginAccessControlConfig", {})))
    return result


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        description=dict(type="str"),
        origin_type=dict(type="str", choices=["s3", "mediastore", "mediapackagev2", "lambda"], default="s3"),
        signing_behavior=dict(type="str", choices=["always", "never", "no-override"], default="always"),
        distribution_id=dict(type="str"),
        origin_id=dict(type="str"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        required_together=[["distribution_id", "origin_id"]],
        supports_check_mode=True,
    )
    if len(module.params["name"]) > 64:
        module.fail_json(msg="name: at most 64 characters")
    manager = OriginAccessControlManager(module)
    result = {}
    if module.params["state"] == "present":
        before, after = manager.ensure_present(module.params)
        if module.params["distribution_id"]:
            if not after.get("Id"):
                # Check mode and a new OAC: attaching it is part of the predicted change.
                result["attached"] = True
            else:
                manager.attach(module.params["distribution_id"], module.params["origin_id"], after["Id"])
                result["attached"] = True
    else:
        before, after = manager.ensure_absent(module.params)
        if module.params["distribution_id"]:
            result["attached"] = False
    result.update(changed=manager.changed, origin_access_control=flatten(after))
    if module._diff:
        result["diff"] = {"before": flatten(before), "after": flatten(after)}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
