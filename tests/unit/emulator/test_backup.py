"""The emulator's AWS Backup plans and selections as the AWS Backup API reference describes them
(tools/emulator/services/backup.py)."""

import pytest
from botocore.exceptions import ClientError

RULE = {"RuleName": "daily", "TargetBackupVaultName": "unit-vault", "ScheduleExpression": "cron(0 3 * * ? *)",
        "Lifecycle": {"DeleteAfterDays": 7}}


def test_a_plan_is_updated_and_keeps_its_selections_until_they_go(emulator):
    backup = emulator.client("backup")
    backup.create_backup_vault(BackupVaultName="unit-vault")
    plan = backup.create_backup_plan(BackupPlan={"BackupPlanName": "unit-plan", "Rules": [RULE]})
    plan_id = plan["BackupPlanId"]
    updated = backup.update_backup_plan(BackupPlanId=plan_id, BackupPlan={
        "BackupPlanName": "unit-plan", "Rules": [{**RULE, "Lifecycle": {"DeleteAfterDays": 35}}]})
    assert updated["VersionId"] != plan["VersionId"]
    rules = backup.get_backup_plan(BackupPlanId=plan_id)["BackupPlan"]["Rules"]
    assert rules[0]["Lifecycle"] == {"DeleteAfterDays": 35}

    with pytest.raises(ClientError, match="IamRoleArn"):
        backup.create_backup_selection(BackupPlanId=plan_id, BackupSelection={"SelectionName": "db", "IamRoleArn": ""})
    role = "arn:aws:iam::123456789012:role/unit-backup"
    made = backup.create_backup_selection(BackupPlanId=plan_id, BackupSelection={
        "SelectionName": "db", "IamRoleArn": role, "Resources": ["arn:aws:rds:us-east-1:123456789012:db:unit"]})
    listed = backup.list_backup_selections(BackupPlanId=plan_id)["BackupSelectionsList"]
    assert [(s["SelectionName"], s["IamRoleArn"]) for s in listed] == [("db", role)]
    got = backup.get_backup_selection(BackupPlanId=plan_id, SelectionId=made["SelectionId"])
    assert got["BackupSelection"]["Resources"] == ["arn:aws:rds:us-east-1:123456789012:db:unit"]
    with pytest.raises(ClientError, match="selections must be deleted prior to backup plan deletion"):
        backup.delete_backup_plan(BackupPlanId=plan_id)
    backup.delete_backup_selection(BackupPlanId=plan_id, SelectionId=made["SelectionId"])
    backup.delete_backup_plan(BackupPlanId=plan_id)
    # The name is free again once the plan is deleted.
    again = backup.create_backup_plan(BackupPlan={"BackupPlanName": "unit-plan", "Rules": [RULE]})
    backup.delete_backup_plan(BackupPlanId=again["BackupPlanId"])
    backup.delete_backup_vault(BackupVaultName="unit-vault")
    with pytest.raises(ClientError) as missing:
        backup.describe_backup_vault(BackupVaultName="unit-vault")
    assert missing.value.response["Error"]["Code"] == "AccessDeniedException"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_an_rds_backup_is_restored_to_a_new_instance_and_keeps_its_vault(emulator):
    """StartBackupJob makes an RDS recovery point (a DB snapshot); StartRestoreJob creates a new
    instance from it with the metadata's settings, and fails, with RDS's reason, over an
    identifier already taken; a vault with recovery points cannot be deleted."""
    backup, rds = emulator.client("backup"), emulator.client("rds")
    instance = rds.create_db_instance(DBInstanceIdentifier="unit-db", DBInstanceClass="db.t4g.micro", Engine="mysql",
                                      MasterUsername="admin", MasterUserPassword="x" * 16, AllocatedStorage=20)
    db_arn = instance["DBInstance"]["DBInstanceArn"]
    backup.create_backup_vault(BackupVaultName="unit-points")
    role = "arn:aws:iam::123456789012:role/unit-backup"
    job = backup.start_backup_job(BackupVaultName="unit-points", ResourceArn=db_arn, IamRoleArn=role)
    point = job["RecoveryPointArn"]
    assert point.startswith("arn:aws:rds:us-east-1:123456789012:snapshot:awsbackup:job-")
    assert backup.describe_backup_job(BackupJobId=job["BackupJobId"])["State"] == "COMPLETED"
    # AWS Backup's snapshots are of the type "awsbackup" (DescribeDBSnapshots, SnapshotType).
    snapshots = rds.describe_db_snapshots(DBInstanceIdentifier="unit-db", SnapshotType="awsbackup")["DBSnapshots"]
    assert [s["DBSnapshotArn"] for s in snapshots] == [point]
    by_vault = backup.list_recovery_points_by_backup_vault(BackupVaultName="unit-points", ByResourceArn=db_arn)
    assert [p["RecoveryPointArn"] for p in by_vault["RecoveryPoints"]] == [point]
    by_resource = backup.list_recovery_points_by_resource(ResourceArn=db_arn)["RecoveryPoints"]
    assert [(p["RecoveryPointArn"], p["Status"]) for p in by_resource] == [(point, "COMPLETED")]
    assert backup.describe_recovery_point(BackupVaultName="unit-points", RecoveryPointArn=point)["ResourceType"] == "RDS"
    metadata = backup.get_recovery_point_restore_metadata(BackupVaultName="unit-points",
                                                          RecoveryPointArn=point)["RestoreMetadata"]
    assert metadata["DBInstanceIdentifier"] == "unit-db" and metadata["DBInstanceClass"] == "db.t4g.micro"

    taken = backup.start_restore_job(RecoveryPointArn=point, IamRoleArn=role, Metadata=metadata)
    failed = backup.describe_restore_job(RestoreJobId=taken["RestoreJobId"])
    assert failed["Status"] == "FAILED" and "already exists" in failed["StatusMessage"], failed
    restored = backup.start_restore_job(RecoveryPointArn=point, IamRoleArn=role,
                                        Metadata={**metadata, "DBInstanceIdentifier": "unit-db-restore", "MultiAZ": "false"})
    done = backup.describe_restore_job(RestoreJobId=restored["RestoreJobId"])
    assert done["Status"] == "COMPLETED", done
    assert done["CreatedResourceArn"] == db_arn.replace(":db:unit-db", ":db:unit-db-restore")
    assert rds.describe_db_instances(DBInstanceIdentifier="unit-db-restore")["DBInstances"][0]["MultiAZ"] is False

    with pytest.raises(ClientError, match="contains recovery points"):
        backup.delete_backup_vault(BackupVaultName="unit-points")
    backup.delete_recovery_point(BackupVaultName="unit-points", RecoveryPointArn=point)
    assert not rds.describe_db_snapshots(DBInstanceIdentifier="unit-db", SnapshotType="awsbackup")["DBSnapshots"]
    backup.delete_backup_vault(BackupVaultName="unit-points")
    for identifier in ("unit-db", "unit-db-restore"):
        rds.delete_db_instance(DBInstanceIdentifier=identifier, SkipFinalSnapshot=True)
