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
