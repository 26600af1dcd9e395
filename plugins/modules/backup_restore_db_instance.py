#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: backup_restore_db_instance
short_description: Restore an RDS DB instance's AWS Backup recovery point into a new DB instance, and wait for it
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - Picks the recovery point (I(recovery_point_arn), or the latest completed one of I(resource_arn) in
    the vault), reads its restore metadata (the instance's settings when it was backed up -
    class, subnet group, security groups, parameter and option groups...), overrides them with
    I(metadata), and starts an AWS Backup restore job that creates the DB instance
    I(db_instance_identifier) from it. AWS Backup never restores over an existing instance
    (AWS Backup Developer Guide, "Non-destructive restores").
  - Waits until the job is C(COMPLETED) (the instance available); with I(master_user_password),
    gives the restored instance's master user that password (C(ModifyDBInstance), applied at once)
    and waits until it holds it; then tags the instance with C(RestoredFrom), the recovery
    point's ARN, and I(tags). The tag comes last, so a run interrupted before it finishes the restore.
  - Idempotent. When the instance exists already it is not restored again; a run interrupted
    while the job ran waits for the instance. An instance restored from another recovery point
    than the one asked for is a failure, not a silent success.
  - Check mode reads only and reports the recovery point and the metadata a restore would use.
  - amazon.aws has no module that starts restore jobs (C(backup_restore_job_info) reads them).
options:
  backup_vault_name:
    description: The vault that holds the recovery points.
    type: str
    required: true
  resource_arn:
    description:
      - The backed-up DB instance's ARN; its latest completed recovery point in the vault is
        restored. The instance itself need not exist any more.
      - One of I(resource_arn) and I(recovery_point_arn) is required.
    type: str
  recovery_point_arn:
    description: The recovery point to restore (for RDS, the ARN of AWS Backup's DB snapshot).
    type: str
  db_instance_identifier:
    description: The new DB instance's identifier.
    type: str
    required: true
  iam_role_arn:
    description: The role AWS Backup assumes to create the instance (AWS's AWSBackupServiceRolePolicyForRestores).
    type: str
    required: true
  metadata:
    description:
      - Restore metadata that replaces the recovery point's, by RestoreDBInstanceFromDBSnapshot's
        parameter names (C(MultiAZ), C(DBInstanceClass), C(DBSubnetGroupName), C(VpcSecurityGroupIds)
        as a JSON list, C(DeletionProtection)...), values as strings.
      - C(DBInstanceIdentifier) is I(db_instance_identifier).
    type: dict
    default: {}
  tags:
    description: Tags the restored instance gets besides C(RestoredFrom).
    type: dict
    default: {}
  master_user_password:
    description:
      - The password the restored instance's master user gets. The recovery point holds the password of
        when it was taken, which a rotation since may have changed.
    type: str
  wait_timeout:
    description: Seconds to wait for the restore (RDS restores take 10-60 minutes, more for large instances).
    type: int
    default: 3600
  poll_seconds:
    description: Seconds between two reads of the restore job.
    type: int
    default: 30
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Restore the latest backup of the shop's database beside it
  shop.aws.backup_restore_db_instance:
    backup_vault_name: shop-production-backup
    resource_arn: arn:aws:rds:eu-west-1:123456789012:db:shop-production-mysql
    db_instance_identifier: shop-production-mysql-restore
    iam_role_arn: arn:aws:iam::123456789012:role/shop-production-backup
    metadata:
      MultiAZ: "false"
      DeletionProtection: "false"
"""

RETURN = r"""
recovery_point:
  description: The recovery point restored (or that would be) - arn, creation_date, vault.
  returned: always
  type: dict
metadata:
  description: The restore metadata given to the restore job (or that would be, in check mode).
  returned: when a restore job is started or would be
  type: dict
restore_job_id:
  description: The restore job's ID.
  returned: when this run started a restore
  type: str
db_instance:
  description: The restored instance - identifier, arn, status, address, port.
  returned: unless in check mode before the instance exists
  type: dict
"""

import time

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError

    AWS_ERRORS = (ClientError, BotoCoreError)
except ImportError:
    AWS_ERRORS = ()  # AnsibleAWSModule reports the missing botocore

from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.shop.aws.plugins.module_utils import calls

TAG = "RestoredFrom"
ENDED = {"COMPLETED", "FAILED", "ABORTED"}


class Restore:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.backup = calls.client(module, "backup")
        self.rds = calls.client(module, "rds")

    def fail(self, exc, msg):
        self.module.fail_json_aws(exc, msg=msg)

    def recovery_point(self) -> dict:
        vault, wanted = self.params["backup_vault_name"], self.params["recovery_point_arn"]
        try:
            if wanted:
                point = self.backup.describe_recovery_point(aws_retry=True, BackupVaultName=vault, RecoveryPointArn=wanted)
                points = [point]
            else:
                points = calls.paginate(self.backup, "list_recovery_points_by_backup_vault", BackupVaultName=vault,
                                        ByResourceArn=self.params["resource_arn"])["RecoveryPoints"]
        except is_boto3_error_code(("ResourceNotFoundException", "AccessDeniedException")) as exc:
            self.fail(exc, f"No recovery point {wanted or 'of ' + self.params['resource_arn']} in the backup vault {vault} "
                           "(does the vault exist?)")
        except AWS_ERRORS as exc:  # pylint: disable=duplicate-except
            self.fail(exc, f"Could not read the recovery points of the backup vault {vault}")
        completed = [p for p in points if p.get("Status") == "COMPLETED"]
        if not completed:
            if wanted:
                self.module.fail_json(msg=f"recovery_point_arn: {wanted} is {points[0].get('Status')}, not COMPLETED: "
                                          "it cannot be restored")
            self.module.fail_json(msg=f"resource_arn: the backup vault {vault} holds no completed recovery point of "
                                      f"{self.params['resource_arn']}: the backup plan has not run yet (or its points "
                                      "expired); start an on-demand backup job or wait for the plan's window")
        latest = max(completed, key=lambda p: p["CreationDate"])
        return {"arn": latest["RecoveryPointArn"], "creation_date": str(latest["CreationDate"]), "vault": vault}

    def instance(self):
        identifier = self.params["db_instance_identifier"]
        try:
            found = self.rds.describe_db_instances(aws_retry=True, DBInstanceIdentifier=identifier)["DBInstances"][0]
        except is_boto3_error_code("DBInstanceNotFound"):
            return None
        except AWS_ERRORS as exc:  # pylint: disable=duplicate-except
            self.fail(exc, f"Could not read the DB instance {identifier}")
        endpoint = found.get("Endpoint") or {}
        tags = {t["Key"]: t["Value"] for t in found.get("TagList") or []}
        return {"identifier": identifier, "arn": found["DBInstanceArn"], "status": found["DBInstanceStatus"],
                "address": endpoint.get("Address", ""), "port": endpoint.get("Port", 0), "restored_from": tags.get(TAG, ""),
                "password_pending": "MasterUserPassword" in (found.get("PendingModifiedValues") or {})}

    def metadata(self, point: dict) -> dict:
        try:
            stored = self.backup.get_recovery_point_restore_metadata(
                aws_retry=True, BackupVaultName=point["vault"], RecoveryPointArn=point["arn"])["RestoreMetadata"]
        except AWS_ERRORS as exc:
            self.fail(exc, f"Could not read the restore metadata of {point['arn']}")
        given = {key: str(value) for key, value in (self.params["metadata"] or {}).items()}
        return {**stored, **given, "DBInstanceIdentifier": self.params["db_instance_identifier"]}

    def start(self, point: dict, metadata: dict) -> str:
        try:
            return self.backup.start_restore_job(
                aws_retry=True, RecoveryPointArn=point["arn"], Metadata=metadata, IamRoleArn=self.params["iam_role_arn"],
                ResourceType="RDS",
                # A retried call with the same token starts no second job (StartRestoreJob).
                IdempotencyToken=f"{self.params['db_instance_identifier']}:{point['arn']}"[-60:])["RestoreJobId"]
        except AWS_ERRORS as exc:
            self.fail(exc, f"Could not start restoring {point['arn']} into {self.params['db_instance_identifier']}")

    def wait_job(self, job_id: str) -> None:
        deadline = time.monotonic() + self.params["wait_timeout"]
        while True:
            try:
                job = self.backup.describe_restore_job(aws_retry=True, RestoreJobId=job_id)
            except AWS_ERRORS as exc:
                self.fail(exc, f"Could not read the restore job {job_id}")
            if job["Status"] == "COMPLETED":
                return
            if job["Status"] in ENDED:
                self.module.fail_json(msg=f"The restore job {job_id} ended {job['Status']}: "
                                          f"{job.get('StatusMessage') or 'AWS Backup gave no reason'}", restore_job=job)
            if time.monotonic() >= deadline:
                self.module.fail_json(msg=f"The restore job {job_id} is still {job['Status']} after "
                                          f"{self.params['wait_timeout']} s (wait_timeout); it goes on: run again to wait for it")
            time.sleep(self.params["poll_seconds"])

    def wait_available(self) -> dict:
        deadline = time.monotonic() + self.params["wait_timeout"]
        while True:
            found = self.instance()
            if found and found["status"] == "available" and not found["password_pending"]:
                return found
            if time.monotonic() >= deadline:
                self.module.fail_json(msg=f"The DB instance {self.params['db_instance_identifier']} is "
                                          f"{found['status'] if found else 'missing'} after {self.params['wait_timeout']} s")
            time.sleep(self.params["poll_seconds"])

    def set_password(self) -> dict:
        """The master user takes master_user_password (RDS applies it "asynchronously, as soon as
        possible", RDS API reference, ModifyDBInstance MasterUserPassword); the instance once done."""
        if not self.params["master_user_password"]:
            return self.instance()
        try:
            self.rds.modify_db_instance(aws_retry=True, DBInstanceIdentifier=self.params["db_instance_identifier"],
                                        MasterUserPassword=self.params["master_user_password"], ApplyImmediately=True)
        except AWS_ERRORS as exc:
            self.fail(exc, f"Could not set the master password of the restored DB instance {self.params['db_instance_identifier']}")
        return self.wait_available()

    def tag(self, instance: dict, point: dict) -> None:
        tags = {**(self.params["tags"] or {}), TAG: point["arn"]}
        try:
            self.rds.add_tags_to_resource(aws_retry=True, ResourceName=instance["arn"], Tags=ansible_dict_to_boto3_tag_list(tags))
        except AWS_ERRORS as exc:
            self.fail(exc, f"Could not tag the restored DB instance {instance['identifier']}")


def main():
    module = AnsibleAWSModule(
        argument_spec={
            "backup_vault_name": {"type": "str", "required": True},
            "resource_arn": {"type": "str"},
            "recovery_point_arn": {"type": "str"},
            "db_instance_identifier": {"type": "str", "required": True},
            "iam_role_arn": {"type": "str", "required": True},
            "metadata": {"type": "dict", "default": {}},
            "master_user_password": {"type": "str", "no_log": True},
            "tags": {"type": "dict", "default": {}},
            "wait_timeout": {"type": "int", "default": 3600},
            "poll_seconds": {"type": "int", "default": 30},
        },
        required_one_of=[("resource_arn", "recovery_point_arn")],
        mutually_exclusive=[("resource_arn", "recovery_point_arn")],
        supports_check_mode=True,
    )
    restore = Restore(module)
    identifier = module.params["db_instance_identifier"]
    if module.params["resource_arn"] and module.params["resource_arn"].endswith(f":db:{identifier}"):
        module.fail_json(msg=f"db_instance_identifier: {identifier} is the backed-up instance itself; "
                             "a restore makes a new instance and needs another name")
    point = restore.recovery_point()
    existing = restore.instance()
    if existing:
        if existing["restored_from"] != point["arn"] and not (existing["restored_from"] == "" and existing["status"] != "available"):
            module.fail_json(msg=f"db_instance_identifier: the DB instance {identifier} exists already, restored from "
                                 f"{existing['restored_from'] or 'no recovery point of this module'}, not from {point['arn']}: "
                                 "delete it or name another instance", recovery_point=point, db_instance=existing)
        if existing["status"] != "available" and not module.check_mode:
            existing = restore.wait_available()
            if not existing["restored_from"]:
                existing = restore.set_password()
                restore.tag(existing, point)
                module.exit_json(changed=True, recovery_point=point, db_instance={**existing, "restored_from": point["arn"]})
        module.exit_json(changed=False, recovery_point=point, db_instance=existing)
    metadata = restore.metadata(point)
    if module.check_mode:
        module.exit_json(changed=True, recovery_point=point, metadata=metadata)
    job_id = restore.start(point, metadata)
    restore.wait_job(job_id)
    restore.wait_available()
    instance = restore.set_password()
    restore.tag(instance, point)
    module.exit_json(changed=True, recovery_point=point, metadata=metadata, restore_job_id=job_id,
                     db_instance={**instance, "restored_from": point["arn"]})


if __name__ == "__main__":
    main()
