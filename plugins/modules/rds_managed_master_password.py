#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: rds_managed_master_password
short_description: Have RDS manage, and rotate, a DB instance's master password in Secrets Manager
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - With I(state=present), RDS generates the master password and keeps it in a secret of its own,
    C(rds!db-<id>), which it rotates itself (C(ModifyDBInstance) C(ManageMasterUserPassword); RDS
    User Guide, "Password management with Amazon RDS and AWS Secrets Manager"). The password the
    instance had stops working once the change is applied.
  - I(rotation_days) sets the schedule of that rotation (C(RotateSecret) with C(RotationRules) and
    C(RotateImmediately=false), the way Secrets Manager changes the schedule of a managed rotation;
    RDS's own default is every 7 days).
  - I(rotate=true) rotates it at once (C(ModifyDBInstance) C(RotateMasterUserPassword) with
    C(ApplyImmediately)) and waits until the secret holds a new current version.
  - With I(state=absent), RDS stops managing it and deletes its secret; the master user takes
    I(master_user_password).
  - The module waits until the instance is available before a change and, after it, until the
    secret is C(active).
options:
  db_instance_identifier:
    description: The RDS DB instance.
    type: str
    required: true
  state:
    description: Whether RDS manages the master password.
    type: str
    choices: [present, absent]
    default: present
  rotation_days:
    description:
      - Days between two rotations RDS makes (Secrets Manager's C(AutomaticallyAfterDays), 1 to 1000).
      - Left as it is when not given.
    type: int
  rotate:
    description: Rotate the managed password now (I(state=present) only).
    type: bool
    default: false
  master_user_password:
    description: The password the master user takes when I(state=absent) ends the management (8 to 41 characters).
    type: str
  wait_timeout:
    description: Seconds to wait for the instance, and for its secret, before and after a change.
    type: int
    default: 1200
  poll_seconds:
    description: Seconds between two reads while waiting.
    type: int
    default: 10
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Have RDS manage the master password, rotated every 30 days
  shop.aws.rds_managed_master_password:
    db_instance_identifier: shop-production-mysql
    rotation_days: 30

- name: Rotate it now
  shop.aws.rds_managed_master_password:
    db_instance_identifier: shop-production-mysql
    rotate: true
"""

RETURN = r"""
secret_arn:
  description: The ARN of the secret RDS keeps the master credentials in (C(username), C(password)).
  returned: when state is present
  type: str
secret_status:
  description: The secret's status as RDS reports it (C(active) once the module has waited).
  returned: when state is present
  type: str
rotation_days:
  description: Days between two rotations, as the secret's schedule says.
  returned: when state is present
  type: int
rotated:
  description: Whether the password was rotated by this run.
  returned: always
  type: bool
"""

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError

    AWS_ERRORS = (ClientError, BotoCoreError)
except ImportError:
    AWS_ERRORS = ()  # AnsibleAWSModule reports the missing botocore

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.shop.aws.plugins.module_utils import calls
from ansible_collections.shop.aws.plugins.module_utils import rds_instance


def secret_active(instance: dict) -> bool:
    return instance.get("MasterUserSecret", {}).get("SecretStatus") == "active"


class Management:
    def __init__(self, module):
        self.module = module
        self.rds = calls.client(module, "rds")
        self.secrets = calls.client(module, "secretsmanager")
        self.identifier = module.params["db_instance_identifier"]

    def settled(self, what: str, ready=None) -> dict:
        return rds_instance.wait_settled(self.module, self.rds, self.identifier, what, ready)

    def modify(self, what: str, **params) -> None:
        try:
            self.rds.modify_db_instance(aws_retry=True, DBInstanceIdentifier=self.identifier, ApplyImmediately=True, **params)
        except AWS_ERRORS as exc:
            self.module.fail_json_aws(exc, msg=f"Could not {what} of the RDS instance {self.identifier}")

    def describe_secret(self, arn: str) -> dict:
        try:
            return self.secrets.describe_secret(aws_retry=True, SecretId=arn)
        except AWS_ERRORS as exc:
            return self.module.fail_json_aws(exc, msg=f"Could not read the master password's secret {arn}")

    def rotated_since(self, arn: str, version: str):
        """A wait condition: the secret is active and its current version is another than ``version``."""
        def ready(instance: dict) -> bool:
            return secret_active(instance) and rds_instance.stage_versions(self.describe_secret(arn))[0] not in ("", version)
        return ready

    def schedule(self, arn: str, days: int) -> None:
        try:
            self.secrets.rotate_secret(aws_retry=True, SecretId=arn, RotationRules={"AutomaticallyAfterDays": days},
                                       RotateImmediately=False)
        except AWS_ERRORS as exc:
            self.module.fail_json_aws(exc, msg=f"Could not set the rotation schedule of {arn} to every {days} days")


def main():
    module = AnsibleAWSModule(
        argument_spec={
            "db_instance_identifier": {"type": "str", "required": True},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
            "rotation_days": {"type": "int"},
            "rotate": {"type": "bool", "default": False},
            "master_user_password": {"type": "str", "no_log": True},
            "wait_timeout": {"type": "int", "default": 1200},
            "poll_seconds": {"type": "int", "default": 10},
        },
        required_if=[("state", "absent", ["master_user_password"])],
        supports_check_mode=True,
    )
    params = module.params
    state, days = params["state"], params["rotation_days"]
    if days is not None and not 1 <= days <= 1000:
        module.fail_json(msg=f"rotation_days must be 1 to 1000 (Secrets Manager's AutomaticallyAfterDays); {days} was given")
    if state == "absent" and (params["rotate"] or days is not None):
        module.fail_json(msg="rotate and rotation_days apply to a managed password: state=absent takes neither")
    if state == "absent" and not 8 <= len(params["master_user_password"]) <= 41:
        module.fail_json(msg="master_user_password must be 8 to 41 characters (RDS for MySQL's master password); "
                             f"{len(params['master_user_password'])} were given")

    management = Management(module)
    instance = rds_instance.describe(module, management.rds, management.identifier)
    managed = bool(instance.get("MasterUserSecret"))

    if state == "absent":
        if not managed:
            module.exit_json(changed=False, rotated=False)
        if not module.check_mode:
            management.settled("before ending the management of its master password")
            management.modify("end the management of the master password", ManageMasterUserPassword=False,
                              MasterUserPassword=params["master_user_password"])
            management.settled("the end of the management of its master password",
                               ready=lambda seen: not seen.get("MasterUserSecret"))
        module.exit_json(changed=True, rotated=False, diff={"before": {"managed": True}, "after": {"managed": False}})

    before = {"managed": managed}
    changed = rotated = False
    if not managed:
        changed = True
        if module.check_mode:
            module.exit_json(changed=True, rotated=False,
                             diff={"before": before, "after": {"managed": True, "rotation_days": days}})
        management.settled("before the management of its master password")
        management.modify("have RDS manage the master password", ManageMasterUserPassword=True)
        instance = management.settled("the management of its master password",
                                      ready=secret_active)
    else:
        instance = management.settled("reading its master password's secret", ready=secret_active) \
            if not secret_active(instance) and not module.check_mode else instance
    arn = instance["MasterUserSecret"]["SecretArn"]
    described = management.describe_secret(arn)
    scheduled = (described.get("RotationRules") or {}).get("AutomaticallyAfterDays")
    if managed:
        before["rotation_days"] = scheduled
    if days is not None and scheduled != days:
        changed = True
        if not module.check_mode:
            management.schedule(arn, days)
        scheduled = days
    if params["rotate"]:
        changed = rotated = True
        if not module.check_mode:
            version = rds_instance.stage_versions(described)[0]
            management.modify("rotate the master password", RotateMasterUserPassword=True)
            instance = management.settled("the rotation of its master password", ready=management.rotated_since(arn, version))
    module.exit_json(changed=changed, rotated=rotated, secret_arn=arn,
                     secret_status=instance["MasterUserSecret"].get("SecretStatus"), rotation_days=scheduled,
                     diff={"before": before, "after": {"managed": True, "rotation_days": scheduled}})


if __name__ == "__main__":
    main()
