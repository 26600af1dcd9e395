#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: rds_master_password_rotation
short_description: Rotate an RDS instance's master password kept in a Secrets Manager secret
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - Rotates the password the way Secrets Manager's single-user rotation does (Secrets Manager
    User Guide, "Rotation by Lambda function", the createSecret, setSecret and finishSecret steps),
    without a Lambda function, so clients that read the secret see the same stages.
  - C(createSecret) - a new version of the secret with a new password, staged C(AWSPENDING)
    (C(PutSecretValue)); a pending version left by an interrupted run is used again.
  - C(setSecret) - the instance takes it (C(ModifyDBInstance) C(MasterUserPassword) with
    C(ApplyImmediately); RDS applies it "asynchronously as soon as possible", RDS API reference),
    and the module waits until the instance is available with no master password pending.
  - C(finishSecret) - C(AWSCURRENT) moves to the new version (the former current becomes
    C(AWSPREVIOUS)), and C(AWSPENDING) is taken off it.
  - Between the second and third steps the server takes the pending password only, so a client
    refused by the server reads both stages and uses the one that is accepted (the web
    instances' C(shop-configure --refresh-db) does).
  - A secret that Secrets Manager rotates itself (rotation turned on) is refused, as two rotations
    of one password would race.
  - For an account other than the master user (the application's own, which only SQL can change),
    I(step=create) stages the new password and I(step=finish) makes it current; between the two,
    the account takes the pending password (M(shop.aws.mysql_app_user), on a host that reaches
    the database).
options:
  step:
    description:
      - C(all) - the three steps, the master user's password set through the RDS API.
      - C(create) - only createSecret (a pending version left by an interrupted run is kept).
      - C(finish) - only finishSecret; fails when no version is pending.
    type: str
    choices: [all, create, finish]
    default: all
  secret_id:
    description: Name or ARN of the secret; a JSON object with at least C(username) and C(password).
    type: str
    required: true
  db_instance_identifier:
    description: The RDS instance whose master user the secret holds; required with I(step=all).
    type: str
  password_length:
    description: Length of the new password (letters and digits).
    type: int
    default: 32
  wait_timeout:
    description: Seconds to wait for the instance to be available, before and after the change.
    type: int
    default: 1200
  poll_seconds:
    description: Seconds between two reads of the instance while waiting.
    type: int
    default: 10
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Rotate the master password
  shop.aws.rds_master_password_rotation:
    secret_id: shop-production/db
    db_instance_identifier: shop-production-mysql
"""

RETURN = r"""
version_id:
  description: The secret's version that is current after the run (the new password's).
  returned: success
  type: str
previous_version_id:
  description: The version that was current before (now AWSPREVIOUS).
  returned: success
  type: str
resumed:
  description: Whether the run finished a pending version an interrupted run had left.
  returned: success
  type: bool
pending_version_id:
  description: The version staged AWSPENDING (I(step=create)).
  returned: when step is create
  type: str
"""

import json
import secrets
import string
import uuid

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError

    AWS_ERRORS = (ClientError, BotoCoreError)
except ImportError:
    AWS_ERRORS = ()  # AnsibleAWSModule reports the missing botocore

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.shop.aws.plugins.module_utils import calls
from ansible_collections.shop.aws.plugins.module_utils import rds_instance

ALPHABET = string.ascii_letters + string.digits


def new_password(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for position in range(length))


class Rotation:
    def __init__(self, module):
        self.module = module
        self.secrets = calls.client(module, "secretsmanager")
        self.rds = calls.client(module, "rds")
        self.secret_id = module.params["secret_id"]
        self.instance_id = module.params["db_instance_identifier"]

    def value(self, version: str) -> dict:
        try:
            answer = self.secrets.get_secret_value(aws_retry=True, SecretId=self.secret_id, VersionId=version)
            value = json.loads(answer["SecretString"])
        except AWS_ERRORS as exc:
            self.module.fail_json_aws(exc, msg=f"Could not read version {version} of the secret {self.secret_id}")
        except (KeyError, ValueError):
            self.module.fail_json(msg=f"secret_id: version {version} of {self.secret_id} is not a JSON object")
        if not isinstance(value, dict) or not value.get("username") or not value.get("password"):
            self.module.fail_json(msg=f"secret_id: version {version} of {self.secret_id} has no username and password")
        return value

    def instance(self) -> dict:
        return rds_instance.describe(self.module, self.rds, self.instance_id)

    def wait_settled(self, what: str) -> None:
        rds_instance.wait_settled(self.module, self.rds, self.instance_id, what)

    def stage(self, version: str, label: str, move_to: str = "", remove_from: str = "") -> None:
        params = {"SecretId": self.secret_id, "VersionStage": label}
        if move_to:
            params["MoveToVersionId"] = move_to
        if remove_from:
            params["RemoveFromVersionId"] = remove_from
        try:
            self.secrets.update_secret_version_stage(aws_retry=True, **params)
        except AWS_ERRORS as exc:
            self.module.fail_json_aws(exc, msg=f"Could not move the stage {label} of the secret {self.secret_id} "
                                               f"(version {version})")


def main():
    module = AnsibleAWSModule(
        argument_spec={
            "secret_id": {"type": "str", "required": True},
            "db_instance_identifier": {"type": "str"},
            "step": {"type": "str", "default": "all", "choices": ["all", "create", "finish"]},
            "password_length": {"type": "int", "default": 32, "no_log": False},
            "wait_timeout": {"type": "int", "default": 1200},
            "poll_seconds": {"type": "int", "default": 10},
        },
        required_if=[("step", "all", ["db_instance_identifier"])],
        supports_check_mode=True,
    )
    step = module.params["step"]
    if not 8 <= module.params["password_length"] <= 41:  # RDS for MySQL: 8 to 41 characters
        module.fail_json(msg=f"password_length must be 8 to 41 (RDS for MySQL's master password); "
                             f"{module.params['password_length']} was given")
    rotation = Rotation(module)
    try:
        described = rotation.secrets.describe_secret(aws_retry=True, SecretId=rotation.secret_id)
    except is_boto3_error_code("ResourceNotFoundException"):
        module.fail_json(msg=f"secret_id: no secret {rotation.secret_id} (build the stack first)")
    except AWS_ERRORS as exc:  # pylint: disable=duplicate-except
        module.fail_json_aws(exc, msg=f"Could not read the secret {rotation.secret_id}")
    if described.get("RotationEnabled"):
        module.fail_json(msg=f"The secret {rotation.secret_id} is rotated by Secrets Manager "
                             f"({described.get('RotationLambdaARN') or 'managed rotation'}): rotate it there "
                             "(aws secretsmanager rotate-secret), not with this module")
    if described.get("DeletedDate"):
        module.fail_json(msg=f"The secret {rotation.secret_id} is scheduled for deletion: restore it or rebuild the stack first")
    current, pending = rds_instance.stage_versions(described)
    if not current:
        module.fail_json(msg=f"The secret {rotation.secret_id} has no AWSCURRENT version")
    current_value = rotation.value(current)
    if step == "all":
        instance = rotation.instance()
        if instance.get("MasterUserSecret"):
            module.fail_json(msg=f"The master password of {rotation.instance_id} is managed by RDS in Secrets Manager "
                                 f"({instance['MasterUserSecret'].get('SecretArn')}): RDS rotates it (on its schedule, or at "
                                 "once with shop.aws.rds_managed_master_password rotate=true), not this module")
        if instance["MasterUsername"] != current_value["username"]:
            module.fail_json(msg=f"The secret {rotation.secret_id} holds the user {current_value['username']!r}, "
                                 f"not {instance['MasterUsername']!r}, the master user of {rotation.instance_id}")
    if step == "finish":
        if not pending:
            module.fail_json(msg=f"step=finish: the secret {rotation.secret_id} has no AWSPENDING version to make current "
                                 "(run step=create, and give the account the pending password, first)")
        if not module.check_mode:
            rotation.stage(pending, "AWSCURRENT", move_to=pending, remove_from=current)
            rotation.stage(pending, "AWSPENDING", remove_from=pending)
        module.exit_json(changed=True, resumed=True, version_id=pending, previous_version_id=current)
    if module.check_mode:
        module.exit_json(changed=True, resumed=bool(pending), previous_version_id=current)

    # createSecret: the pending version (an interrupted run's, or a new one).
    resumed = bool(pending)
    if pending:
        pending_value = rotation.value(pending)
    else:
        pending = str(uuid.uuid4())
        pending_value = {**current_value, "password": new_password(module.params["password_length"])}
        try:
            # The same token on a retry: Secrets Manager makes the version once.
            rotation.secrets.put_secret_value(aws_retry=True, SecretId=rotation.secret_id, ClientRequestToken=pending,
                                              SecretString=json.dumps(pending_value), VersionStages=["AWSPENDING"])
        except AWS_ERRORS as exc:
            module.fail_json_aws(exc, msg=f"Could not stage a new password in the secret {rotation.secret_id}")
    if step == "create":
        module.exit_json(changed=not resumed, resumed=resumed, pending_version_id=pending, previous_version_id=current)

    # setSecret: the instance takes it.
    rotation.wait_settled("before the password change")
    try:
        rotation.rds.modify_db_instance(aws_retry=True, DBInstanceIdentifier=rotation.instance_id,
                                        MasterUserPassword=pending_value["password"], ApplyImmediately=True)
    except AWS_ERRORS as exc:
        module.fail_json_aws(exc, msg=f"Could not set the new master password of {rotation.instance_id} "
                                      f"(the secret keeps it as AWSPENDING: run again to finish)")
    rotation.wait_settled("the password change")

    # finishSecret: current, and no longer pending.
    rotation.stage(pending, "AWSCURRENT", move_to=pending, remove_from=current)
    rotation.stage(pending, "AWSPENDING", remove_from=pending)
    module.exit_json(changed=True, resumed=resumed, version_id=pending, previous_version_id=current)


if __name__ == "__main__":
    main()
