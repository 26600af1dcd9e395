"""AWS Backup in the emulator: the backup plan and selection operations moto 5.2 lacks, after
the AWS Backup API reference.

- UpdateBackupPlan replaces a plan's document and gives it a new VersionId.
- CreateBackupSelection, GetBackupSelection, ListBackupSelections, DeleteBackupSelection: the
  resources a plan backs up, with the IAM role AWS Backup assumes for them (IamRoleArn is
  required; a missing plan is ResourceNotFoundException).
- DeleteBackupPlan refuses a plan that still has selections ("A backup plan can only be
  deleted after all associated selections of resources have been deleted", DeleteBackupPlan).
- A plan may take the name of a deleted one (moto 5.2 counted deleted plans as taking it).
- DescribeBackupVault of a vault that does not exist answers AccessDeniedException,
  "Insufficient privileges to perform this action.", as AWS does even to a caller allowed to
  describe it (reported in aws/aws-sdk-js#2625, hashicorp/terraform-provider-aws#26347, and
  handled so by amazon.aws's backup_vault, ansible-collections/amazon.aws#1436); moto 5.2
  answers ResourceNotFoundException, which that module does not expect.
- On-demand backups and restores of RDS DB instances: StartBackupJob/DescribeBackupJob,
  ListRecoveryPointsByBackupVault/ByResource, DescribeRecoveryPoint, DeleteRecoveryPoint,
  GetRecoveryPointRestoreMetadata, StartRestoreJob/DescribeRestoreJob. An RDS recovery point is
  a DB snapshot named ``awsbackup:job-<backup job ID>`` (snapshot type ``awsbackup``) whose ARN
  is the recovery point's ARN (AWS Backup Developer Guide, "Amazon RDS backups"); a restore
  creates a new DB instance from it, never overwriting one ("Non-destructive restores",
  "Restore a backup by resource type"), with RestoreDBInstanceFromDBSnapshot's parameters as
  its metadata keys ("Restore an Amazon RDS database"). A restore job is RUNNING until its DB
  instance is available, then COMPLETED with the instance as CreatedResourceArn, or FAILED with
  RDS's reason (an identifier already taken). With the local fleet the snapshot keeps the
  instance's data (services/rds.py install_fleet). The plan's schedule does not run here:
  recovery points come from StartBackupJob, and copy actions are not carried out.
- DeleteBackupVault refuses a vault that holds recovery points (DeleteBackupVault: "the
  vault must be empty"), as InvalidRequestException.
"""

from __future__ import annotations

import json
from urllib.parse import unquote


def install() -> None:
    from moto.backup.exceptions import (
        AlreadyExistsException,
        InvalidParameterValueException,
        InvalidRequestException,
        ResourceNotFoundException,
    )
    from moto.backup.models import BackupBackend, Plan
    from moto.backup.responses import BackupResponse
    from moto.core.exceptions import JsonRESTError
    from moto.core.utils import unix_time
    from moto.moto_api._internal import mock_random

    def plan_of(backend, plan_id: str):
        plan = backend.plans.get(plan_id)
        if plan is None or plan.deletion_date is not None:
            raise ResourceNotFoundException(msg=f"Failed reading Backup plan with provided version {plan_id}")
        return plan

    def selections_of(backend, plan_id: str) -> dict[str, dict]:
        """The plan's selections by ID, kept on the backend (a reset of the emulator forgets them)."""
        if not hasattr(backend, "shop_selections"):
            backend.shop_selections = {}
        return backend.shop_selections.setdefault(plan_id, {})

    def create_backup_plan(self, backup_plan, backup_plan_tags, creator_request_id):
        if backup_plan["BackupPlanName"] in [p.backup_plan["BackupPlanName"] for p in self.plans.values()
                                             if p.deletion_date is None]:
            raise AlreadyExistsException(msg="Backup plan with the same plan document already exists")
        plan = Plan(backup_plan=backup_plan, creator_request_id=creator_request_id, backend=self)
        if backup_plan_tags:
            self.tag_resource(plan.backup_plan_arn, backup_plan_tags)
        self.plans[plan.backup_plan_id] = plan
        return plan

    def update_backup_plan(self, plan_id: str, backup_plan: dict):
        plan = plan_of(self, plan_id)
        if backup_plan.get("BackupPlanName") != plan.backup_plan["BackupPlanName"]:
            raise InvalidParameterValueException(msg="A backup plan's name cannot be changed")
        fresh = Plan(backup_plan=backup_plan, creator_request_id=plan.creator_request_id, backend=self)
        plan.backup_plan = fresh.backup_plan
        plan.advanced_backup_settings = fresh.advanced_backup_settings
        plan.version_id = fresh.version_id
        return plan

    def delete_backup_plan(self, backup_plan_id: str):
        if selections_of(self, backup_plan_id):
            raise InvalidRequestException(msg="Related backup plan selections must be deleted prior to backup plan deletion")
        return original_delete_plan(self, backup_plan_id)

    original_delete_plan = BackupBackend.delete_backup_plan
    BackupBackend.create_backup_plan = create_backup_plan
    BackupBackend.update_backup_plan = update_backup_plan
    BackupBackend.delete_backup_plan = delete_backup_plan

    def create_backup_selection(self, plan_id: str, selection: dict, creator_request_id: str | None):
        plan_of(self, plan_id)
        if not selection.get("SelectionName") or not selection.get("IamRoleArn"):
            raise InvalidParameterValueException(msg="BackupSelection needs a SelectionName and an IamRoleArn")
        selection_id = str(mock_random.uuid4())
        selections_of(self, plan_id)[selection_id] = {
            "BackupSelection": selection, "SelectionId": selection_id, "BackupPlanId": plan_id,
            "CreationDate": unix_time(), "CreatorRequestId": creator_request_id or ""}
        return selections_of(self, plan_id)[selection_id]

    def selection(self, plan_id: str, selection_id: str) -> dict:
        plan_of(self, plan_id)
        found = selections_of(self, plan_id).get(selection_id)
        if found is None:
            raise ResourceNotFoundException(msg=f"Failed reading backup selection {selection_id}")
        return found

    original_describe_vault = BackupBackend.describe_backup_vault

    def describe_backup_vault(self, backup_vault_name: str):
        if backup_vault_name not in self.vaults:
            error = JsonRESTError("AccessDeniedException", "Insufficient privileges to perform this action.")
            error.code = 403
            raise error
        return original_describe_vault(self, backup_vault_name)

    BackupBackend.describe_backup_vault = describe_backup_vault
    BackupBackend.create_backup_selection = create_backup_selection
    BackupBackend.get_backup_selection = selection

    def plan_id_in_path(response) -> str:
        return response.path.split("/plans/")[1].split("/")[0]

    def update_backup_plan_response(self):
        plan = self.backup_backend.update_backup_plan(plan_id_in_path(self), json.loads(self.body)["BackupPlan"])
        return json.dumps({"BackupPlanId": plan.backup_plan_id, "BackupPlanArn": plan.backup_plan_arn,
                           "CreationDate": plan.creation_date, "VersionId": plan.version_id,
                           "AdvancedBackupSettings": plan.advanced_backup_settings})

    def create_backup_selection_response(self):
        params = json.loads(self.body)
        made = self.backup_backend.create_backup_selection(plan_id_in_path(self), params.get("BackupSelection") or {},
                                                           params.get("CreatorRequestId"))
        return json.dumps({k: made[k] for k in ("SelectionId", "BackupPlanId", "CreationDate")})

    def get_backup_selection_response(self):
        return json.dumps(self.backup_backend.get_backup_selection(plan_id_in_path(self), self.path.rstrip("/").split("/")[-1]))

    def list_backup_selections_response(self):
        plan_id = plan_id_in_path(self)
        plan_of(self.backup_backend, plan_id)
        return json.dumps({"BackupSelectionsList": [
            {"SelectionId": s["SelectionId"], "SelectionName": s["BackupSelection"]["SelectionName"],
             "BackupPlanId": plan_id, "CreationDate": s["CreationDate"], "CreatorRequestId": s["CreatorRequestId"],
             "IamRoleArn": s["BackupSelection"]["IamRoleArn"]}
            for s in selections_of(self.backup_backend, plan_id).values()]})

    def delete_backup_selection_response(self):
        plan_id, selection_id = plan_id_in_path(self), self.path.rstrip("/").split("/")[-1]
        self.backup_backend.get_backup_selection(plan_id, selection_id)
        del selections_of(self.backup_backend, plan_id)[selection_id]
        return "{}"

    BackupResponse.update_backup_plan = update_backup_plan_response
    BackupResponse.create_backup_selection = create_backup_selection_response
    BackupResponse.get_backup_selection = get_backup_selection_response
    BackupResponse.list_backup_selections = list_backup_selections_response
    BackupResponse.delete_backup_selection = delete_backup_selection_response
    _install_recovery_points()


# RestoreDBInstanceFromDBSnapshot's parameters as AWS Backup's RDS restore metadata names them,
# and moto's names for them with how a metadata string becomes their value.
RDS_RESTORE_KEYS = {
    "DBInstanceIdentifier": ("db_instance_identifier", str),
    "DBInstanceClass": ("db_instance_class", str),
    "MultiAZ": ("multi_az", lambda value: str(value).lower() == "true"),
    "Port": ("port", int),
    "AvailabilityZone": ("availability_zone", str),
    "DBSubnetGroupName": ("db_subnet_group_name", str),
    "VpcSecurityGroupIds": ("vpc_security_group_ids",
                            lambda value: json.loads(value) if value.startswith("[") else value.split(",")),
    "DBParameterGroupName": ("db_parameter_group_name", str),
    "OptionGroupName": ("option_group_name", str),
    "StorageType": ("storage_type", str),
    "CopyTagsToSnapshot": ("copy_tags_to_snapshot", lambda value: str(value).lower() == "true"),
    "DeletionProtection": ("deletion_protection", lambda value: str(value).lower() == "true"),
    "AutoMinorVersionUpgrade": ("auto_minor_version_upgrade", lambda value: str(value).lower() == "true"),
    "PubliclyAccessible": ("publicly_accessible", lambda value: str(value).lower() == "true"),
}


def _install_recovery_points() -> None:
    import moto.backup.urls
    from moto.backup.exceptions import InvalidParameterValueException, InvalidRequestException, ResourceNotFoundException
    from moto.backup.models import BackupBackend
    from moto.backup.responses import BackupResponse
    from moto.core.utils import unix_time
    from moto.moto_api._internal import mock_random
    from moto.rds.models import rds_backends

    dispatch = BackupResponse.dispatch
    moto.backup.urls.url_paths.update({
        "{0}/backup-jobs/?$": dispatch,
        "{0}/backup-jobs/(?P<job>[^/]+)$": dispatch,
        "{0}/restore-jobs/?$": dispatch,
        "{0}/restore-jobs/(?P<job>[^/]+)$": dispatch,
        "{0}/backup-vaults/(?P<name>[^/]+)/recovery-points/$": dispatch,
        "{0}/backup-vaults/(?P<name>[^/]+)/recovery-points/(?P<arn>.+)$": dispatch,
        "{0}/resources/(?P<arn>.+)/recovery-points/$": dispatch,
    })

    def store(backend, kind: str) -> dict:
        if not hasattr(backend, "shop_" + kind):
            setattr(backend, "shop_" + kind, {})
        return getattr(backend, "shop_" + kind)

    def rds_of(arn: str):
        """The RDS backend and DB instance identifier of an RDS ARN (arn:aws:rds:region:account:db:id)."""
        parts = arn.split(":", 6)
        if len(parts) != 7 or parts[2] != "rds" or parts[5] not in ("db", "snapshot"):
            raise InvalidParameterValueException(msg=f"Only RDS DB instances are backed up here, not {arn}")
        return rds_backends[parts[4]][parts[3]], parts[6]

    def recovery_point(backend, vault_name: str, arn: str) -> dict:
        backend.describe_backup_vault(vault_name)
        point = store(backend, "recovery_points").get(arn)
        if point is None or point["BackupVaultName"] != vault_name:
            raise ResourceNotFoundException(msg=f"Recovery point {arn} not found")
        return point

    def start_backup_job(self, params: dict) -> dict:
        vault = self.describe_backup_vault(params.get("BackupVaultName", ""))
        if not params.get("IamRoleArn"):
            raise InvalidParameterValueException(msg="IamRoleArn is required")
        rds, identifier = rds_of(params.get("ResourceArn", ""))
        job_id = str(mock_random.uuid4()).upper()
        snapshot = rds.create_db_snapshot(identifier, f"awsbackup:job-{job_id.lower()}", snapshot_type="awsbackup")
        now = unix_time()
        store(self, "recovery_points")[snapshot.arn] = {
            "RecoveryPointArn": snapshot.arn, "BackupVaultName": vault.backup_vault_name,
            "BackupVaultArn": vault.backup_vault_arn, "ResourceArn": params["ResourceArn"], "ResourceType": "RDS",
            "ResourceName": identifier, "IamRoleArn": params["IamRoleArn"], "Status": "COMPLETED",
            "CreationDate": now, "CompletionDate": now, "BackupSizeInBytes": snapshot.allocated_storage * 2**30,
            "Lifecycle": params.get("Lifecycle") or {}, "IsEncrypted": bool(snapshot.encrypted),
            "CreatedBy": {}, "StorageClass": "WARM",
            "shop_metadata": restore_metadata(snapshot.database)}
        store(self, "backup_jobs")[job_id] = {
            "BackupJobId": job_id, "BackupVaultName": vault.backup_vault_name, "BackupVaultArn": vault.backup_vault_arn,
            "RecoveryPointArn": snapshot.arn, "ResourceArn": params["ResourceArn"], "ResourceType": "RDS",
            "IamRoleArn": params["IamRoleArn"], "State": "COMPLETED", "CreationDate": now, "CompletionDate": now,
            "PercentDone": "100.0"}
        return {"BackupJobId": job_id, "RecoveryPointArn": snapshot.arn, "CreationDate": now, "IsParent": False}

    def restore_metadata(database) -> dict:
        """The instance's settings at backup time, as GetRecoveryPointRestoreMetadata gives them."""
        values = {
            "DBInstanceIdentifier": database.db_instance_identifier, "DBInstanceClass": database.db_instance_class,
            "Engine": database.engine, "MultiAZ": str(bool(database.multi_az)).lower(), "Port": str(database.port),
            "DBSubnetGroupName": getattr(getattr(database, "db_subnet_group", None), "subnet_name", ""),
            "VpcSecurityGroupIds": json.dumps(list(database.vpc_security_group_ids or [])),
            "DBParameterGroupName": getattr(database, "db_parameter_group_name", None) or "",
            # A default option group (moto names one without keeping it) restores as the default.
            "OptionGroupName": database.option_group_name if getattr(database, "option_group_supplied", True) else "",
            "StorageType": database.storage_type or "",
            "CopyTagsToSnapshot": str(bool(database.copy_tags_to_snapshot)).lower(),
            "DeletionProtection": str(bool(database.deletion_protection)).lower(),
            "AutoMinorVersionUpgrade": str(bool(database.auto_minor_version_upgrade)).lower(),
            "PubliclyAccessible": str(bool(database.publicly_accessible)).lower()}
        return {key: value for key, value in values.items() if value}

    def start_restore_job(self, params: dict) -> dict:
        arn = params.get("RecoveryPointArn", "")
        point = store(self, "recovery_points").get(arn)
        if point is None:
            raise ResourceNotFoundException(msg=f"Recovery point {arn} not found")
        metadata = params.get("Metadata") or {}
        if not metadata.get("DBInstanceIdentifier"):
            raise InvalidParameterValueException(msg="Metadata DBInstanceIdentifier is required to restore an RDS recovery point")
        rds, _ = rds_of(arn)
        overrides = {name: convert(metadata[key]) for key, (name, convert) in RDS_RESTORE_KEYS.items() if key in metadata}
        job_id = str(mock_random.uuid4()).upper()
        job = {"RestoreJobId": job_id, "RecoveryPointArn": arn, "CreationDate": unix_time(), "ResourceType": "RDS",
               "IamRoleArn": params.get("IamRoleArn") or "", "Status": "RUNNING", "PercentDone": "0.00%"}
        try:
            database = rds.restore_db_instance_from_db_snapshot(arn.split(":", 6)[6], overrides)
            job["shop_instance"] = (rds, database.db_instance_identifier, database.db_instance_arn)
        except Exception as error:  # RDS's refusal: the restore job fails with its reason
            job.update(Status="FAILED", StatusMessage=str(getattr(error, "message", None) or error),
                       CompletionDate=unix_time())
        store(self, "restore_jobs")[job_id] = job
        return {"RestoreJobId": job_id}

    def describe_restore_job(self, job_id: str) -> dict:
        job = store(self, "restore_jobs").get(job_id)
        if job is None:
            raise ResourceNotFoundException(msg=f"Restore job {job_id} not found")
        if job["Status"] == "RUNNING":
            rds, identifier, instance_arn = job["shop_instance"]
            database = rds.databases.get(identifier)
            if database is None:
                job.update(Status="FAILED", StatusMessage=f"DB instance {identifier} is gone", CompletionDate=unix_time())
            elif database.status in ("failed", "incompatible-restore", "incompatible-parameters"):
                job.update(Status="FAILED", StatusMessage=f"DB instance {identifier} is {database.status}",
                           CompletionDate=unix_time())
            elif database.status == "available":
                job.update(Status="COMPLETED", PercentDone="100.00%", CreatedResourceArn=instance_arn,
                           CompletionDate=unix_time())
        return {k: v for k, v in job.items() if not k.startswith("shop_")}

    def delete_recovery_point(self, vault_name: str, arn: str) -> None:
        recovery_point(self, vault_name, arn)
        rds, _ = rds_of(arn)
        rds.database_snapshots.pop(arn.split(":", 6)[6], None)
        del store(self, "recovery_points")[arn]

    original_delete_vault = BackupBackend.delete_backup_vault

    def delete_backup_vault(self, backup_vault_name: str) -> None:
        if any(p["BackupVaultName"] == backup_vault_name for p in store(self, "recovery_points").values()):
            raise InvalidRequestException(msg="Backup vault cannot be deleted because it contains recovery points")
        return original_delete_vault(self, backup_vault_name)

    BackupBackend.delete_backup_vault = delete_backup_vault

    def public(point: dict) -> dict:
        return {k: v for k, v in point.items() if not k.startswith("shop_")}

    def in_path(response, marker: str) -> str:
        return unquote(response.path.split(marker, 1)[1].split("/")[0])

    def query(response, name: str) -> str:
        return (response.querystring.get(name) or [""])[0]

    def backup_jobs_response(self):
        if self.method == "PUT":
            return json.dumps(start_backup_job(self.backup_backend, json.loads(self.body or "{}")))
        job = store(self.backup_backend, "backup_jobs").get(in_path(self, "/backup-jobs/"))
        if job is None:
            raise ResourceNotFoundException(msg="Backup job not found")
        return json.dumps(job)

    def restore_jobs_response(self):
        if self.method == "PUT":
            return json.dumps(start_restore_job(self.backup_backend, json.loads(self.body or "{}")))
        return json.dumps(describe_restore_job(self.backup_backend, in_path(self, "/restore-jobs/")))

    def vault_points_response(self):
        vault_name = in_path(self, "/backup-vaults/")
        rest = self.path.split("/recovery-points", 1)[1].strip("/")
        if not rest:
            self.backup_backend.describe_backup_vault(vault_name)
            by_resource = query(self, "byResourceArn")
            points = [public(p) for p in store(self.backup_backend, "recovery_points").values()
                      if p["BackupVaultName"] == vault_name and (not by_resource or p["ResourceArn"] == by_resource)]
            return json.dumps({"RecoveryPoints": points})
        wants_metadata = rest.endswith("/restore-metadata")
        arn = unquote(rest[: -len("/restore-metadata")] if wants_metadata else rest)
        point = recovery_point(self.backup_backend, vault_name, arn)
        if wants_metadata:
            return json.dumps({"BackupVaultArn": point["BackupVaultArn"], "RecoveryPointArn": arn,
                               "RestoreMetadata": point["shop_metadata"], "ResourceType": "RDS"})
        if self.method == "DELETE":
            delete_recovery_point(self.backup_backend, vault_name, arn)
            return "{}"
        return json.dumps(public(point))

    def resource_points_response(self):
        resource = unquote(self.path.split("/resources/", 1)[1].rsplit("/recovery-points", 1)[0])
        points = [{"RecoveryPointArn": p["RecoveryPointArn"], "CreationDate": p["CreationDate"], "Status": p["Status"],
                   "BackupSizeBytes": p["BackupSizeInBytes"], "BackupVaultName": p["BackupVaultName"],
                   "ResourceName": p["ResourceName"]}
                  for p in store(self.backup_backend, "recovery_points").values() if p["ResourceArn"] == resource]
        return json.dumps({"RecoveryPoints": points})

    BackupResponse.start_backup_job = backup_jobs_response
    BackupResponse.describe_backup_job = backup_jobs_response
    BackupResponse.start_restore_job = restore_jobs_response
    BackupResponse.describe_restore_job = restore_jobs_response
    for action in ("list_recovery_points_by_backup_vault", "describe_recovery_point", "delete_recovery_point",
                   "get_recovery_point_restore_metadata"):
        setattr(BackupResponse, action, vault_points_response)
    BackupResponse.list_recovery_points_by_resource = resource_points_response
