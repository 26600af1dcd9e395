"""The emulator's RDS option groups, Performance Insights and Enhanced Monitoring as RDS's API
reference and User Guide describe them (tools/emulator/services/rds.py)."""

import json

import pytest
from botocore.exceptions import ClientError

TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                  "Principal": {"Service": "monitoring.rds.amazonaws.com"}}]}


def _instance(rds, name, **extra):
    return rds.create_db_instance(DBInstanceIdentifier=name, Engine="mysql", EngineVersion="8.4.7",
                                  DBInstanceClass=extra.pop("DBInstanceClass", "db.r6g.large"), AllocatedStorage=20,
                                  MasterUsername="admin", MasterUserPassword="password-of-test", **extra)["DBInstance"]


def test_a_mysql_84_option_group_holds_the_audit_plugin_and_is_kept_while_used(emulator):
    rds = emulator.client("rds")
    rds.create_option_group(OptionGroupName="insight-audit", EngineName="mysql", MajorEngineVersion="8.4",
                            OptionGroupDescription="audit")
    rds.modify_option_group(OptionGroupName="insight-audit", OptionsToInclude=[{
        "OptionName": "MARIADB_AUDIT_PLUGIN", "OptionSettings": [{"Name": "SERVER_AUDIT_EVENTS", "Value": "CONNECT"}]}])
    group = rds.describe_option_groups(OptionGroupName="insight-audit")["OptionGroupsList"][0]
    assert [o["OptionName"] for o in group["Options"]] == ["MARIADB_AUDIT_PLUGIN"]

    _instance(rds, "insight-og", OptionGroupName="insight-audit")
    with pytest.raises(ClientError, match="InvalidOptionGroupStateFault.*in use"):
        rds.delete_option_group(OptionGroupName="insight-audit")
    rds.delete_db_instance(DBInstanceIdentifier="insight-og", FinalDBSnapshotIdentifier="insight-og-final")
    with pytest.raises(ClientError, match="in use"):  # its final snapshot uses it too
        rds.delete_option_group(OptionGroupName="insight-audit")
    rds.delete_db_snapshot(DBSnapshotIdentifier="insight-og-final")
    rds.delete_option_group(OptionGroupName="insight-audit")


def test_performance_insights_are_kept_and_refused_on_a_micro_class(emulator):
    rds = emulator.client("rds")
    db = _instance(rds, "insight-pi", EnablePerformanceInsights=True)
    assert db["PerformanceInsightsEnabled"] is True
    assert db["PerformanceInsightsRetentionPeriod"] == 7
    assert db["PerformanceInsightsKMSKeyId"].startswith("arn:aws:kms:")
    rds.modify_db_instance(DBInstanceIdentifier="insight-pi", PerformanceInsightsRetentionPeriod=93, ApplyImmediately=True)
    assert rds.describe_db_instances(DBInstanceIdentifier="insight-pi")["DBInstances"][0][
        "PerformanceInsightsRetentionPeriod"] == 93
    with pytest.raises(ClientError, match="InvalidParameterValue.*retention period 94"):
        rds.modify_db_instance(DBInstanceIdentifier="insight-pi", PerformanceInsightsRetentionPeriod=94)
    with pytest.raises(ClientError, match="Performance Insights not supported for this configuration"):
        _instance(rds, "insight-micro", DBInstanceClass="db.t4g.micro", EnablePerformanceInsights=True)
    rds.delete_db_instance(DBInstanceIdentifier="insight-pi", SkipFinalSnapshot=True)


def test_enhanced_monitoring_needs_a_role_rds_may_assume(emulator):
    rds, iam = emulator.client("rds"), emulator.client("iam")
    with pytest.raises(ClientError, match="MonitoringRoleARN value is required"):
        _instance(rds, "insight-em", MonitoringInterval=60)
    ec2_role = iam.create_role(RoleName="insight-ec2", AssumeRolePolicyDocument=json.dumps(
        {**TRUST, "Statement": [{**TRUST["Statement"][0], "Principal": {"Service": "ec2.amazonaws.com"}}]}))["Role"]["Arn"]
    with pytest.raises(ClientError, match="ENHANCED_MONITORING"):
        _instance(rds, "insight-em", MonitoringInterval=60, MonitoringRoleArn=ec2_role)
    role = iam.create_role(RoleName="insight-monitoring", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    with pytest.raises(ClientError, match="MonitoringInterval 45"):
        _instance(rds, "insight-em", MonitoringInterval=45, MonitoringRoleArn=role)
    db = _instance(rds, "insight-em", MonitoringInterval=60, MonitoringRoleArn=role)
    assert (db["MonitoringInterval"], db["MonitoringRoleArn"]) == (60, role)
    assert db["EnhancedMonitoringResourceArn"].endswith(db["DbiResourceId"])
    rds.modify_db_instance(DBInstanceIdentifier="insight-em", MonitoringInterval=0, ApplyImmediately=True)
    assert rds.describe_db_instances(DBInstanceIdentifier="insight-em")["DBInstances"][0]["MonitoringInterval"] == 0
    rds.delete_db_instance(DBInstanceIdentifier="insight-em", SkipFinalSnapshot=True)
