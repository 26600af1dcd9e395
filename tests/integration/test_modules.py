"""Our modules against the emulator: check -> apply -> check (no change) -> apply (no change),
then the result asserted with boto3. Also the emulator's own API extensions."""

import json
import os
import subprocess

import pytest
from helpers import ROOT, VENV_BIN

pytestmark = pytest.mark.integration


def module(emulator, name, args, *flags):
    """Run one of our modules ad hoc, as Ansible would, and return its result."""
    args = dict(args, endpoint_url=emulator.url, region="us-east-1", access_key="testing", secret_key="testing")
    env = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    proc = subprocess.run([str(VENV_BIN / "ansible"), "localhost", "-m", f"shop.aws.{name}", "-a", json.dumps(args), *flags],
                          cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
    output = json.loads(proc.stdout)
    return output["plays"][0]["tasks"][0]["hosts"]["localhost"]


def ladder(emulator, name, args):
    """check (changed) -> apply (changed) -> check (not changed) -> apply (not changed)."""
    predicted = module(emulator, name, args, "--check", "--diff")
    assert predicted["changed"] is True, predicted
    applied = module(emulator, name, args, "--diff")
    assert applied["changed"] is True, applied
    assert module(emulator, name, args, "--check")["changed"] is False
    again = module(emulator, name, args)
    assert again["changed"] is False, again
    return applied


def test_dashboard_module(emulator):
    emulator.reset()
    body = {"widgets": [{"type": "text", "x": 0, "y": 0, "width": 6, "height": 2, "properties": {"markdown": "hello"}}]}
    applied = ladder(emulator, "cloudwatch_dashboard", {"name": "shop-test", "body": body})
    assert applied["diff"]["before"] == {} and applied["diff"]["after"]["body"] == body
    stored = json.loads(emulator.client("cloudwatch").get_dashboard(DashboardName="shop-test")["DashboardBody"])
    assert stored == body
    reordered = json.dumps({"widgets": [{"properties": {"markdown": "hello"}, "height": 2, "width": 6, "y": 0, "x": 0, "type": "text"}]})
    assert module(emulator, "cloudwatch_dashboard", {"name": "shop-test", "body": reordered})["changed"] is False
    assert module(emulator, "cloudwatch_dashboard", {"name": "shop-test", "state": "absent"}, "--check")["changed"] is True
    assert module(emulator, "cloudwatch_dashboard", {"name": "shop-test", "state": "absent"})["changed"] is True
    assert emulator.client("cloudwatch").list_dashboards()["DashboardEntries"] == []
    refused = module(emulator, "cloudwatch_dashboard", {"name": "shop test", "body": body})
    assert refused.get("failed") and "name" in refused["msg"]


def test_origin_access_control_module_attaches_to_an_existing_distribution(emulator):
    emulator.reset()
    cloudfront = emulator.client("cloudfront")
    legacy = cloudfront.create_distribution(DistributionConfig={
        "CallerReference": "legacy", "Comment": "legacy", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "s3", "DomainName": "b.s3.us-east-1.amazonaws.com",
                                              "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "s3", "ViewerProtocolPolicy": "redirect-to-https",
                                 "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"},
    })["Distribution"]
    args = {"name": "shop-test-static", "description": "test", "distribution_id": legacy["Id"], "origin_id": "s3"}
    applied = ladder(emulator, "cloudfront_origin_access_control", args)
    oac_id = applied["origin_access_control"]["id"]
    assert applied["attached"] is True
    origin = cloudfront.get_distribution_config(Id=legacy["Id"])["DistributionConfig"]["Origins"]["Items"][0]
    assert origin["OriginAccessControlId"] == oac_id
    assert cloudfront.get_origin_access_control(Id=oac_id)["OriginAccessControl"]["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    changed = module(emulator, "cloudfront_origin_access_control", dict(args, signing_behavior="no-override"), "--diff")
    assert changed["changed"] and changed["diff"]["after"]["signing_behavior"] == "no-override"
    unknown = module(emulator, "cloudfront_origin_access_control", dict(args, origin_id="nope"))
    assert unknown.get("failed") and "origin_id" in unknown["msg"]
    removed = module(emulator, "cloudfront_origin_access_control", dict(args, state="absent"))
    assert removed["changed"] is True
    origin = cloudfront.get_distribution_config(Id=legacy["Id"])["DistributionConfig"]["Origins"]["Items"][0]
    assert origin["OriginAccessControlId"] == ""
    assert cloudfront.list_origin_access_controls()["OriginAccessControlList"].get("Items", []) == []


def test_emulator_disable_metrics_collection(emulator):
    emulator.reset()
    ec2 = emulator.client("ec2")
    autoscaling = emulator.client("autoscaling")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    ec2.create_launch_template(LaunchTemplateName="tpl", LaunchTemplateData={"ImageId": image, "InstanceType": "t3.micro"})
    autoscaling.create_auto_scaling_group(AutoScalingGroupName="g", MinSize=0, MaxSize=1, AvailabilityZones=["us-east-1a"],
                                          LaunchTemplate={"LaunchTemplateName": "tpl"})
    autoscaling.enable_metrics_collection(AutoScalingGroupName="g", Granularity="1Minute",
                                          Metrics=["GroupMinSize", "GroupMaxSize"])
    autoscaling.disable_metrics_collection(AutoScalingGroupName="g", Metrics=["GroupMinSize"])
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["g"])["AutoScalingGroups"][0]
    assert [m["Metric"] for m in group["EnabledMetrics"]] == ["GroupMaxSize"]
    autoscaling.disable_metrics_collection(AutoScalingGroupName="g")
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["g"])["AutoScalingGroups"][0]
    assert group.get("EnabledMetrics", []) == []


def test_emulator_counts_calls(emulator):
    emulator.reset()
    emulator.client("ec2").describe_vpcs()
    emulator.client("sqs").list_queues()
    calls = emulator.stats()["calls"]
    assert calls == {"ec2:DescribeVpcs": 1, "sqs:ListQueues": 1}


def test_metric_alarms_module_converges_a_set_in_one_call(emulator):
    emulator.reset()
    alarms = [
        {"name": "shop-test-elb-5xx", "namespace": "AWS/ApplicationELB", "metric_name": "HTTPCode_ELB_5XX_Count",
         "dimensions": {"LoadBalancer": "app/shop-test/abc"}, "statistic": "Sum", "comparison": "GreaterThanThreshold",
         "threshold": 10, "evaluation_periods": 5, "datapoints_to_alarm": 3, "treat_missing_data": "notBreaching"},
        {"name": "shop-test-p95", "namespace": "AWS/ApplicationELB", "metric_name": "TargetResponseTime",
         "dimensions": {"LoadBalancer": "app/shop-test/abc"}, "extended_statistic": "p95",
         "comparison": "GreaterThanThreshold", "threshold": 1.5, "evaluation_periods": 3},
    ]
    applied = ladder(emulator, "cloudwatch_metric_alarms", {"alarms": alarms})
    assert sorted(applied["created"]) == ["shop-test-elb-5xx", "shop-test-p95"]
    stored = {a["AlarmName"]: a for a in emulator.client("cloudwatch").describe_alarms(AlarmNamePrefix="shop-test-")["MetricAlarms"]}
    assert stored["shop-test-p95"]["ExtendedStatistic"] == "p95" and stored["shop-test-p95"]["DatapointsToAlarm"] == 3
    assert stored["shop-test-elb-5xx"]["TreatMissingData"] == "notBreaching"
    # One alarm changed: only it is sent, and its diff names the setting before -> after.
    emulator.stats(reset=True)
    changed = module(emulator, "cloudwatch_metric_alarms", {"alarms": [dict(alarms[0], threshold=20), alarms[1]]}, "--diff")
    assert changed["changed"] is True and changed["unchanged"] == ["shop-test-p95"]
    assert changed["updated"] == {"shop-test-elb-5xx": {"Threshold": [10.0, 20.0]}}
    calls = emulator.stats()["calls"]
    assert calls.get("monitoring:DescribeAlarms") == 1 and calls.get("monitoring:PutMetricAlarm") == 1, calls
    refused = module(emulator, "cloudwatch_metric_alarms", {"alarms": [dict(alarms[1], statistic="Average"),
                                                                        dict(alarms[0], datapoints_to_alarm=6)]})
    assert refused.get("failed")
    assert refused["msg"] == ("alarms[0] (shop-test-p95): set exactly one of statistic and extended_statistic; "
                              "alarms[1] (shop-test-elb-5xx): datapoints_to_alarm must be between 1 and "
                              "evaluation_periods (5) (got 6)")


def test_stack_info_reads_the_whole_stack(emulator):
    emulator.reset()
    empty = module(emulator, "stack_info", {"stack": "shop-test"})
    assert empty["changed"] is False and empty["stack"]["vpc"] == {}
    assert "vpc" in empty["stack"]["missing"] and "subnets.app" in empty["stack"]["missing"]
    ec2 = emulator.client("ec2")
    tags = [{"Key": "Stack", "Value": "shop-test"}]
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": tags}])["Vpc"]["VpcId"]
    subnets = {}
    for index, (tier, az) in enumerate([("public", "us-east-1b"), ("public", "us-east-1a"), ("app", "us-east-1a")]):
        subnets[(tier, az)] = ec2.create_subnet(
            VpcId=vpc, CidrBlock=f"10.30.{index}.0/24", AvailabilityZone=az,
            TagSpecifications=[{"ResourceType": "subnet", "Tags": tags + [{"Key": "Tier", "Value": tier}]}])["Subnet"]["SubnetId"]
    web = ec2.create_security_group(GroupName="shop-test-web", Description="web", VpcId=vpc, TagSpecifications=[
        {"ResourceType": "security-group", "Tags": tags + [{"Key": "Tier", "Value": "web"}]}])["GroupId"]
    elbv2 = emulator.client("elbv2")
    alb = elbv2.create_load_balancer(Name="shop-test", Subnets=[subnets[("public", "us-east-1a")], subnets[("public", "us-east-1b")]])
    alb_arn = alb["LoadBalancers"][0]["LoadBalancerArn"]
    group_arn = elbv2.create_target_group(Name="shop-test-web", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
    stack = module(emulator, "stack_info", {"stack": "shop-test"})["stack"]
    assert stack["vpc"]["id"] == vpc and stack["vpc"]["cidr_block"] == "10.30.0.0/16"
    # By tier, sorted by AZ.
    assert stack["subnet_ids"]["public"] == [subnets[("public", "us-east-1a")], subnets[("public", "us-east-1b")]]
    assert [s["availability_zone"] for s in stack["subnets"]["public"]] == ["us-east-1a", "us-east-1b"]
    assert stack["subnet_ids"]["app"] == [subnets[("app", "us-east-1a")]] and stack["subnet_ids"]["db"] == []
    assert stack["security_group_ids"] == {"web": web}
    assert stack["load_balancer"]["label"] == alb_arn.split(":loadbalancer/")[1]
    assert stack["target_group"]["label"] == group_arn.split(":")[-1]
    assert stack["request_count_label"] == f"{stack['load_balancer']['label']}/{stack['target_group']['label']}"
    assert stack["names"]["auto_scaling_group"] == "shop-test-web"
    assert {"subnets.db", "security_groups.alb", "auto_scaling_group", "database"} <= set(stack["missing"])
    assert "subnets.public" not in stack["missing"] and "load_balancer" not in stack["missing"]
    # A second VPC with the stack's tag: refused, naming both, unless the CIDR picks one.
    other = ec2.create_vpc(CidrBlock="10.31.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": tags}])["Vpc"]["VpcId"]
    refused = module(emulator, "stack_info", {"stack": "shop-test"})
    assert refused.get("failed")
    assert "More than one VPC carries the tag Stack=shop-test: " in refused["msg"]
    assert f"{vpc} (10.30.0.0/16)" in refused["msg"] and f"{other} (10.31.0.0/16)" in refused["msg"]
    picked = module(emulator, "stack_info", {"stack": "shop-test", "vpc_cidr": "10.31.0.0/16"})["stack"]
    assert picked["vpc"]["id"] == other and picked["subnet_ids"]["public"] == []


def test_ssm_parameters_module_writes_only_what_differs(emulator):
    emulator.reset()
    args = {"parameters": {"/shop-test/app/region": "eu-west-1", "/shop-test/app/db-secret-name": "shop-test/db"},
            "tags": {"Stack": "shop-test"}}
    applied = ladder(emulator, "ssm_parameters", args)
    assert applied["created"] == ["/shop-test/app/db-secret-name", "/shop-test/app/region"]
    ssm = emulator.client("ssm")
    assert ssm.get_parameter(Name="/shop-test/app/region")["Parameter"]["Value"] == "eu-west-1"
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/shop-test/app/region")["TagList"]
    assert tags == [{"Key": "Stack", "Value": "shop-test"}]
    # A value and a tag changed behind the module's back: only those are written back.
    ssm.put_parameter(Name="/shop-test/app/region", Value="us-east-1", Type="String", Overwrite=True)
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId="/shop-test/app/db-secret-name",
                             Tags=[{"Key": "Owner", "Value": "someone"}])
    emulator.stats(reset=True)
    fixed = module(emulator, "ssm_parameters", args, "--diff")
    assert fixed["updated"] == {"/shop-test/app/region": ["value"], "/shop-test/app/db-secret-name": ["tags"]}
    assert fixed["diff"]["before"]["/shop-test/app/region"]["value"] == "us-east-1"
    calls = emulator.stats()["calls"]
    assert calls.get("ssm:PutParameter") == 1 and calls.get("ssm:RemoveTagsFromResource") == 1, calls
    assert ssm.get_parameter(Name="/shop-test/app/region")["Parameter"]["Value"] == "eu-west-1"
    refused = module(emulator, "ssm_parameters", {"parameters": {"/shop-test/app/empty": ""}})
    assert refused.get("failed")
    assert refused["msg"] == "parameters: SSM refuses an empty value; give a value or leave out /shop-test/app/empty"


def test_log_groups_module_sets_retention_and_tags(emulator):
    emulator.reset()
    names = ["/shop-test/web/app", "/shop-test/web/php-fpm", "/aws/rds/instance/shop-test-mysql/error"]
    args = {"names": names, "retention": 7, "tags": {"Stack": "shop-test"}}
    applied = ladder(emulator, "cloudwatch_log_groups", args)
    assert sorted(applied["created"]) == sorted(names)
    logs = emulator.client("logs")
    stored = {g["logGroupName"]: g.get("retentionInDays") for g in logs.describe_log_groups()["logGroups"]}
    assert stored == dict.fromkeys(names, 7)
    assert logs.list_tags_log_group(logGroupName=names[2])["tags"] == {"Stack": "shop-test"}
    changed = module(emulator, "cloudwatch_log_groups", dict(args, retention=14))
    assert changed["changed"] is True and changed["updated"] == dict.fromkeys(names, ["retention"])
    refused = module(emulator, "cloudwatch_log_groups", dict(args, retention=8))
    assert refused.get("failed") and refused["msg"].startswith("retention must be one of 1, 3, 5, 7, 14,")
    assert refused["msg"].endswith("days (got 8)")


def test_group_settings_module_sets_the_default_instance_warmup(emulator):
    emulator.reset()
    ec2, autoscaling = emulator.client("ec2"), emulator.client("autoscaling")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ec2.create_launch_template(LaunchTemplateName="shop-test-web", LaunchTemplateData={"ImageId": image,
                                                                                       "InstanceType": "t3.micro"})
    autoscaling.create_auto_scaling_group(AutoScalingGroupName="shop-test-web", MinSize=0, MaxSize=2,
                                          LaunchTemplate={"LaunchTemplateName": "shop-test-web"},
                                          AvailabilityZones=["us-east-1a"])
    applied = ladder(emulator, "autoscaling_group_settings", {"name": "shop-test-web", "default_instance_warmup": 180})
    assert applied["diff"] == {"before": {"default_instance_warmup": None}, "after": {"default_instance_warmup": 180}}
    found = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["shop-test-web"])["AutoScalingGroups"][0]
    assert found["DefaultInstanceWarmup"] == 180
    missing = module(emulator, "autoscaling_group_settings", {"name": "shop-test-api", "default_instance_warmup": 180})
    assert missing.get("failed") and missing["msg"] == "the Auto Scaling group shop-test-api does not exist: create it first"
    refused = module(emulator, "autoscaling_group_settings", {"name": "shop-test-web", "default_instance_warmup": -5})
    assert refused.get("failed") and refused["msg"] == "default_instance_warmup must be 0 seconds or more (got -5)"


def test_web_acl_module_converges_rules_and_logging(emulator):
    emulator.reset()
    visibility = {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": "rate"}

    def rules(action):
        return [{"Name": "common", "Priority": 1, "OverrideAction": {"None": {}}, "VisibilityConfig": dict(visibility, MetricName="common"),
                 "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet"}}},
                {"Name": "rate", "Priority": 2, "Action": {action: {}}, "VisibilityConfig": visibility,
                 "Statement": {"RateBasedStatement": {"Limit": 2000, "AggregateKeyType": "IP"}}}]

    logs = "arn:aws:logs:us-east-1:123456789012:log-group:aws-waf-logs-shop-test"
    args = {"name": "shop-test", "rules": rules("Count"), "log_destination": logs, "tags": {"Stack": "shop-test"}}
    applied = ladder(emulator, "wafv2_web_acl", args)
    assert applied["changes"] == ["created", "logging"] and applied["web_acl"]["rules"] == ["common", "rate"]
    waf = emulator.client("wafv2")
    (summary,) = waf.list_web_acls(Scope="CLOUDFRONT")["WebACLs"]
    acl = waf.get_web_acl(Name="shop-test", Scope="CLOUDFRONT", Id=summary["Id"])["WebACL"]
    assert acl["Rules"][1]["Action"] == {"Count": {}} and acl["DefaultAction"] == {"Allow": {}}
    assert waf.get_logging_configuration(ResourceArn=acl["ARN"])["LoggingConfiguration"]["LogDestinationConfigs"] == [logs]
    # Count -> block on one rule: predicted in check mode with its diff, then applied.
    blocking = dict(args, rules=rules("Block"))
    predicted = module(emulator, "wafv2_web_acl", blocking, "--check", "--diff")
    assert predicted["changed"] is True and predicted["changes"] == ["rules"]
    assert predicted["diff"]["before"]["Rules"][1]["Action"] == {"Count": {}}
    assert predicted["diff"]["after"]["Rules"][1]["Action"] == {"Block": {}}
    assert module(emulator, "wafv2_web_acl", blocking)["changed"] is True
    assert module(emulator, "wafv2_web_acl", blocking)["changed"] is False
    assert waf.get_web_acl(Name="shop-test", Scope="CLOUDFRONT", Id=summary["Id"])["WebACL"]["Rules"][1]["Action"] == {"Block": {}}
    refused = module(emulator, "wafv2_web_acl", dict(args, rules=[rules("Block")[1], rules("Block")[1]]))
    assert refused.get("failed") and refused["msg"] == "rules: every rule needs a Name of its own (got ['rate', 'rate'])"
    assert module(emulator, "wafv2_web_acl", {"name": "shop-test", "state": "absent"})["changed"] is True
    assert waf.list_web_acls(Scope="CLOUDFRONT")["WebACLs"] == []


def test_budget_module_converges_the_limit_and_notifications(emulator):
    emulator.reset()
    topic = emulator.client("sns").create_topic(Name="shop-test-alerts")["TopicArn"]
    args = {"name": "shop-test-monthly", "limit_usd": 412.5, "cost_filters": {"TagKeyValue": ["user:Stack$shop-test"]},
            "notifications": [{"threshold": 80}, {"threshold": 100}], "sns_topic_arn": topic}
    ladder(emulator, "budget", args)
    budgets = emulator.client("budgets")
    found = budgets.describe_budget(AccountId="123456789012", BudgetName="shop-test-monthly")["Budget"]
    assert (found["BudgetLimit"], found["TimeUnit"], found["CostFilters"]) == (
        {"Amount": "412.50", "Unit": "USD"}, "MONTHLY", {"TagKeyValue": ["user:Stack$shop-test"]})
    notifications = budgets.describe_notifications_for_budget(AccountId="123456789012",
                                                              BudgetName="shop-test-monthly")["Notifications"]
    assert sorted(n["Threshold"] for n in notifications) == [80.0, 100.0]
    subscribers = budgets.describe_subscribers_for_notification(
        AccountId="123456789012", BudgetName="shop-test-monthly", Notification=notifications[0])["Subscribers"]
    assert subscribers == [{"SubscriptionType": "SNS", "Address": topic}]

    # A new estimate and a forecast alert instead of the 80 % one: only those change.
    changed = module(emulator, "budget", {**args, "limit_usd": 450,
                                          "notifications": [{"threshold": 100}, {"spend": "FORECASTED", "threshold": 100}]},
                     "--diff")
    assert changed["changed"] and changed["diff"]["before"]["limit_usd"] == 412.5
    assert changed["diff"]["after"]["limit_usd"] == 450.0
    notifications = budgets.describe_notifications_for_budget(AccountId="123456789012",
                                                              BudgetName="shop-test-monthly")["Notifications"]
    assert sorted((n["NotificationType"], n["Threshold"]) for n in notifications) == [("ACTUAL", 100.0),
                                                                                      ("FORECASTED", 100.0)]
    refused = module(emulator, "budget", {**args, "limit_usd": 0})
    assert refused.get("failed") and refused["msg"] == "limit_usd must be more than 0 (got 0.0)"
    assert module(emulator, "budget", {"name": "shop-test-monthly", "state": "absent"})["changed"] is True
    assert budgets.describe_budgets(AccountId="123456789012").get("Budgets", []) == []


def test_sns_topic_encryption_module_sets_the_key_once(emulator):
    emulator.reset()
    topic = emulator.client("sns").create_topic(Name="shop-test-orders")["TopicArn"]
    applied = ladder(emulator, "sns_topic_encryption", {"topic_arn": topic, "kms_master_key_id": "alias/shop-test-messages"})
    assert applied["diff"] == {"before": {"kms_master_key_id": ""}, "after": {"kms_master_key_id": "alias/shop-test-messages"}}
    attributes = emulator.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"]
    assert attributes["KmsMasterKeyId"] == "alias/shop-test-messages"
    missing = module(emulator, "sns_topic_encryption", {"topic_arn": topic + "-gone", "kms_master_key_id": "alias/x"})
    assert missing.get("failed") and missing["msg"] == f"topic_arn: no SNS topic {topic}-gone (create it first)"


def test_backup_restore_module_restores_the_latest_point_once_and_refuses_what_it_cannot(emulator):
    emulator.reset()
    rds, backup = emulator.client("rds"), emulator.client("backup")
    source = rds.create_db_instance(DBInstanceIdentifier="shop-test-mysql", DBInstanceClass="db.t4g.micro", Engine="mysql",
                                    MasterUsername="admin", MasterUserPassword="x" * 16, AllocatedStorage=20,
                                    MultiAZ=True)["DBInstance"]
    backup.create_backup_vault(BackupVaultName="shop-test-backup")
    role = "arn:aws:iam::123456789012:role/shop-test-backup"
    args = {"backup_vault_name": "shop-test-backup", "resource_arn": source["DBInstanceArn"], "iam_role_arn": role,
            "db_instance_identifier": "shop-test-mysql-restore", "metadata": {"MultiAZ": "false"},
            "tags": {"Stack": "shop-test"}, "poll_seconds": 1}
    empty = module(emulator, "backup_restore_db_instance", args, "--check")
    assert empty.get("failed") and empty["msg"] == (
        f"resource_arn: the backup vault shop-test-backup holds no completed recovery point of {source['DBInstanceArn']}: "
        "the backup plan has not run yet (or its points expired); start an on-demand backup job or wait for the plan's window")
    itself = module(emulator, "backup_restore_db_instance", {**args, "db_instance_identifier": "shop-test-mysql"})
    assert itself.get("failed") and itself["msg"].startswith("db_instance_identifier: shop-test-mysql is the backed-up instance")
    older = backup.start_backup_job(BackupVaultName="shop-test-backup", ResourceArn=source["DBInstanceArn"], IamRoleArn=role)
    latest = backup.start_backup_job(BackupVaultName="shop-test-backup", ResourceArn=source["DBInstanceArn"], IamRoleArn=role)

    predicted = module(emulator, "backup_restore_db_instance", args, "--check")
    assert predicted["changed"] is True and predicted["recovery_point"]["arn"] == latest["RecoveryPointArn"], predicted
    assert predicted["metadata"]["MultiAZ"] == "false" and predicted["metadata"]["DBInstanceIdentifier"] == "shop-test-mysql-restore"
    assert not rds.describe_db_instances(Filters=[{"Name": "db-instance-id", "Values": ["shop-test-mysql-restore"]}])["DBInstances"]
    restored = module(emulator, "backup_restore_db_instance", args)
    assert restored["changed"] is True and restored["db_instance"]["status"] == "available", restored
    instance = rds.describe_db_instances(DBInstanceIdentifier="shop-test-mysql-restore")["DBInstances"][0]
    assert instance["MultiAZ"] is False
    assert {t["Key"]: t["Value"] for t in instance["TagList"]} == {"Stack": "shop-test", "RestoredFrom": latest["RecoveryPointArn"]}
    assert module(emulator, "backup_restore_db_instance", args, "--check")["changed"] is False
    assert module(emulator, "backup_restore_db_instance", args)["changed"] is False
    # The instance holds another point than the one asked for: refused, not reused.
    other = module(emulator, "backup_restore_db_instance",
                   {**{k: v for k, v in args.items() if k != "resource_arn"}, "recovery_point_arn": older["RecoveryPointArn"]})
    assert other.get("failed") and other["msg"] == (
        f"db_instance_identifier: the DB instance shop-test-mysql-restore exists already, restored from "
        f"{latest['RecoveryPointArn']}, not from {older['RecoveryPointArn']}: delete it or name another instance")


def test_replication_group_module_converges_in_place_and_refuses_what_aws_fixes(emulator):
    emulator.reset()
    ec2, cache = emulator.client("ec2"), emulator.client("elasticache")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"us-east-1{az}")["Subnet"]["SubnetId"]
               for i, az in enumerate("ab")]
    group_sg = ec2.create_security_group(GroupName="shop-test-cache", Description="cache", VpcId=vpc)["GroupId"]
    cache.create_cache_subnet_group(CacheSubnetGroupName="shop-test-redis", CacheSubnetGroupDescription="t",
                                    SubnetIds=subnets)
    args = {"name": "shop-test-redis", "description": "shop-test sessions", "engine_version": "7.1",
            "node_type": "cache.t4g.micro", "num_cache_clusters": 2, "preferred_azs": ["us-east-1a", "us-east-1b"],
            "subnet_group": "shop-test-redis", "security_group_ids": [group_sg], "auth_token": "t0ken-of-sixteen-chars",
            "parameter_group": "shop-test-redis7", "parameters": {"maxmemory-policy": "volatile-ttl"},
            "snapshot_retention_limit": 7, "tags": {"Stack": "shop-test"}}
    applied = ladder(emulator, "elasticache_replication_group", args)
    assert applied["primary_endpoint"].startswith("master.shop-test-redis.")
    assert "t0ken-of-sixteen-chars" not in json.dumps(applied)
    group = cache.describe_replication_groups(ReplicationGroupId="shop-test-redis")["ReplicationGroups"][0]
    assert (group["AutomaticFailover"], group["MultiAZ"], group["AtRestEncryptionEnabled"], group["TransitEncryptionEnabled"],
            group["AuthTokenEnabled"], group["SnapshotRetentionLimit"]) == ("enabled", "enabled", True, True, True, 7)
    members = cache.describe_cache_clusters(ShowCacheNodeInfo=True)["CacheClusters"]
    assert sorted((m["CacheClusterId"], m["PreferredAvailabilityZone"]) for m in members) == [
        ("shop-test-redis-001", "us-east-1a"), ("shop-test-redis-002", "us-east-1b")]
    assert {m["CacheParameterGroup"]["CacheParameterGroupName"] for m in members} == {"shop-test-redis7"}
    user_values = cache.describe_cache_parameters(CacheParameterGroupName="shop-test-redis7", Source="user")["Parameters"]
    assert [(p["ParameterName"], p["ParameterValue"]) for p in user_values] == [("maxmemory-policy", "volatile-ttl")]

    # In place: a bigger node, a shorter retention, another parameter; the diff names only those.
    changed = module(emulator, "elasticache_replication_group",
                     {**args, "node_type": "cache.t4g.small", "snapshot_retention_limit": 3,
                      "parameters": {"maxmemory-policy": "volatile-ttl", "timeout": 300}}, "--diff")
    assert changed["changed"] is True
    assert changed["diff"]["before"] == {"node_type": "cache.t4g.micro", "snapshot_retention_limit": 7,
                                         "parameters": {"maxmemory-policy": "volatile-ttl"}}
    assert changed["diff"]["after"] == {"node_type": "cache.t4g.small", "snapshot_retention_limit": 3,
                                        "parameters": {"maxmemory-policy": "volatile-ttl", "timeout": "300"}}
    group = cache.describe_replication_groups(ReplicationGroupId="shop-test-redis")["ReplicationGroups"][0]
    assert (group["CacheNodeType"], group["SnapshotRetentionLimit"]) == ("cache.t4g.small", 3)

    # What AWS fixes at creation, and a downgrade, are refused by name, nothing sent.
    refused = module(emulator, "elasticache_replication_group",
                     {**args, "node_type": "cache.t4g.small", "port": 6380, "transit_encryption": False,
                      "auth_token": None, "engine_version": "6.2", "snapshot_retention_limit": 3})
    assert refused.get("failed") and refused["msg"] == (
        "port is 6379 on shop-test-redis, 6380 asked: AWS fixes it when the group is created; "
        "transit_encryption is True on shop-test-redis, False asked: AWS fixes it when the group is created; "
        "engine_version 6.2 is older than shop-test-redis's 7.1.0: ElastiCache cannot downgrade an engine")
    bad = module(emulator, "elasticache_replication_group", {**args, "num_cache_clusters": 1, "auth_token": "short"})
    assert bad.get("failed") and bad["msg"] == (
        "automatic_failover needs num_cache_clusters of 2 or more (got 1); "
        "auth_token must be 16-128 printable characters without /, \" or @ (got one of 5 characters)")
    assert "short" not in json.dumps(bad)  # the token is no_log

    # Deleted with its parameter group.
    assert module(emulator, "elasticache_replication_group",
                  {"name": "shop-test-redis", "parameter_group": "shop-test-redis7", "state": "absent"})["changed"] is True
    assert cache.describe_replication_groups()["ReplicationGroups"] == []
    assert [g["CacheParameterGroupName"] for g in cache.describe_cache_parameter_groups()["CacheParameterGroups"]
            if not g["CacheParameterGroupName"].startswith("default.")] == []


def test_master_password_rotation_module_stages_sets_and_promotes_and_finishes_an_interrupted_one(emulator):
    emulator.reset()
    rds, secrets = emulator.client("rds"), emulator.client("secretsmanager")
    rds.create_db_instance(DBInstanceIdentifier="rot-mysql", Engine="mysql", DBInstanceClass="db.t4g.micro",
                           AllocatedStorage=20, MasterUsername="shop_admin", MasterUserPassword="first-password-1")
    secrets.create_secret(Name="rot/db", SecretString=json.dumps(
        {"username": "shop_admin", "password": "first-password-1", "host": "rot-mysql.example", "port": 3306}))
    args = {"secret_id": "rot/db", "db_instance_identifier": "rot-mysql", "poll_seconds": 1}

    def stages() -> list[list[str]]:  # the versions with a stage (AWS lists only those; moto the others too)
        return sorted(sorted(s) for s in secrets.describe_secret(SecretId="rot/db")["VersionIdsToStages"].values() if s)

    def current() -> dict:
        return json.loads(secrets.get_secret_value(SecretId="rot/db")["SecretString"])

    predicted = module(emulator, "rds_master_password_rotation", args, "--check")
    assert predicted["changed"] is True and stages() == [["AWSCURRENT"]], predicted
    rotated = module(emulator, "rds_master_password_rotation", args)
    assert rotated["changed"] is True and rotated["resumed"] is False, rotated
    first = current()
    assert first["password"] != "first-password-1" and len(first["password"]) == 32 and first["host"] == "rot-mysql.example"
    assert stages() == [["AWSCURRENT"], ["AWSPREVIOUS"]]
    assert "first-password-1" not in json.dumps(rotated) and first["password"] not in json.dumps(rotated)

    # A run stopped after staging (its password pending, the instance not changed): the next
    # run sets that same password and makes it current.
    secrets.put_secret_value(SecretId="rot/db", SecretString=json.dumps({**first, "password": "left-pending-by-a-stop"}),
                             VersionStages=["AWSPENDING"])
    resumed = module(emulator, "rds_master_password_rotation", args)
    assert resumed["resumed"] is True and current()["password"] == "left-pending-by-a-stop", resumed
    assert stages() == [["AWSCURRENT"], ["AWSPREVIOUS"]]

    # Refusals, each naming what is wrong.
    missing = module(emulator, "rds_master_password_rotation", {**args, "secret_id": "rot/none"})
    assert missing["msg"] == "secret_id: no secret rot/none (build the stack first)", missing
    no_instance = module(emulator, "rds_master_password_rotation", {**args, "db_instance_identifier": "rot-none"})
    assert no_instance["msg"] == "db_instance_identifier: no RDS instance rot-none (build the stack first)", no_instance
    secrets.create_secret(Name="rot/other", SecretString=json.dumps({"username": "someone", "password": "x" * 12}))
    other = module(emulator, "rds_master_password_rotation", {**args, "secret_id": "rot/other"})
    assert other["msg"] == "The secret rot/other holds the user 'someone', not 'shop_admin', the master user of rot-mysql", other
    short = module(emulator, "rds_master_password_rotation", {**args, "password_length": 6})
    assert short["msg"] == "password_length must be 8 to 41 (RDS for MySQL's master password); 6 was given", short

    # Another account's password (set by SQL between the two steps): create stages it and leaves
    # the instance alone; create again keeps the same pending version; finish makes it current.
    secrets.create_secret(Name="rot/app", SecretString=json.dumps({"username": "shop_app", "password": "app-password-1"}))
    app = {"secret_id": "rot/app", "step": "create"}
    no_pending = module(emulator, "rds_master_password_rotation", {**app, "step": "finish"})
    assert no_pending["msg"] == ("step=finish: the secret rot/app has no AWSPENDING version to make current (run step=create, "
                                 "and give the account the pending password, first)"), no_pending
    staged = module(emulator, "rds_master_password_rotation", app)
    again = module(emulator, "rds_master_password_rotation", app)
    assert staged["changed"] is True and again["changed"] is False and again["resumed"] is True
    pending = json.loads(secrets.get_secret_value(SecretId="rot/app", VersionStage="AWSPENDING")["SecretString"])
    assert staged["pending_version_id"] == again["pending_version_id"] and pending["password"] not in json.dumps(staged)
    assert pending["username"] == "shop_app" and pending["password"] != "app-password-1" and len(pending["password"]) == 32
    assert json.loads(secrets.get_secret_value(SecretId="rot/app")["SecretString"])["password"] == "app-password-1"
    finished = module(emulator, "rds_master_password_rotation", {**app, "step": "finish"})
    assert finished["changed"] is True and finished["version_id"] == staged["pending_version_id"], finished
    assert json.loads(secrets.get_secret_value(SecretId="rot/app")["SecretString"]) == pending
    assert sorted(sorted(s) for s in secrets.describe_secret(SecretId="rot/app")["VersionIdsToStages"].values() if s) == [
        ["AWSCURRENT"], ["AWSPREVIOUS"]]


def credentials_lookup(emulator, secret: str, **options) -> dict:
    """lookup('shop.aws.db_credentials', secret) as a play sees it: the mapping, or the failure."""
    connection = {"endpoint_url": emulator.url, "region": "us-east-1", "access_key": "testing", "secret_key": "testing"}
    expression = f"{{{{ lookup('shop.aws.db_credentials', {secret!r}, **{json.dumps({**connection, **options})}) }}}}"
    env = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    proc = subprocess.run([str(VENV_BIN / "ansible"), "localhost", "-m", "ansible.builtin.debug", "-a",
                           json.dumps({"msg": expression})], cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
    return json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]


def test_managed_master_password_module_hands_the_password_to_rds_and_the_lookup_follows_it(emulator):
    emulator.reset()
    rds, secrets = emulator.client("rds"), emulator.client("secretsmanager")
    rds.create_db_instance(DBInstanceIdentifier="man-mysql", Engine="mysql", DBInstanceClass="db.t4g.micro",
                           AllocatedStorage=20, MasterUsername="shop_admin", MasterUserPassword="toolkit-password-1")
    args = {"db_instance_identifier": "man-mysql", "rotation_days": 30, "poll_seconds": 1}
    applied = ladder(emulator, "rds_managed_master_password", args)
    assert applied["diff"] == {"before": {"managed": False}, "after": {"managed": True, "rotation_days": 30}}, applied
    arn = rds.describe_db_instances(DBInstanceIdentifier="man-mysql")["DBInstances"][0]["MasterUserSecret"]["SecretArn"]
    assert applied["secret_arn"] == arn and ":secret:rds!db-" in arn and applied["secret_status"] == "active"
    managed = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])
    assert managed["username"] == "shop_admin" and managed["password"] != "toolkit-password-1"
    described = secrets.describe_secret(SecretId=arn)
    assert described["RotationEnabled"] is True and described["RotationRules"]["AutomaticallyAfterDays"] == 30

    # Rotated now: a new current version, the former previous; the password in no output.
    rotated = module(emulator, "rds_managed_master_password", {**args, "rotate": True})
    after = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])
    assert rotated["changed"] is True and rotated["rotated"] is True and after["password"] != managed["password"], rotated
    stages = sorted(sorted(s) for s in secrets.describe_secret(SecretId=arn)["VersionIdsToStages"].values() if s)
    assert stages == [["AWSCURRENT"], ["AWSPREVIOUS"]] and after["password"] not in json.dumps(rotated)

    # The stack's secret names RDS's: the lookup gives its username and password, the rest its own.
    secrets.create_secret(Name="man/db", SecretString=json.dumps(
        {"host": "man-mysql.example", "port": 3306, "username": "shop_admin", "masterUserSecretArn": arn}))
    found = credentials_lookup(emulator, "man/db")
    assert found["msg"] == {"host": "man-mysql.example", "port": 3306, "username": "shop_admin", "password": after["password"],
                            "masterUserSecretArn": arn}, found
    assert credentials_lookup(emulator, "man/none", on_missing="skip")["msg"] == {}
    missing = credentials_lookup(emulator, "man/none")
    assert missing.get("failed") and "db_credentials: no secret man/none (the database's credentials)" in missing["msg"], missing

    # The toolkit's rotation leaves a managed password alone, saying why.
    secrets.create_secret(Name="man/master", SecretString=json.dumps({"username": "shop_admin", "password": "toolkit-password-1"}))
    refused = module(emulator, "rds_master_password_rotation", {"secret_id": "man/master", "db_instance_identifier": "man-mysql"})
    assert refused["msg"] == (f"The master password of man-mysql is managed by RDS in Secrets Manager ({arn}): RDS rotates it "
                              "(on its schedule, or at once with shop.aws.rds_managed_master_password rotate=true), not this "
                              "module"), refused

    # Refusals, each naming what is wrong.
    early = module(emulator, "rds_managed_master_password", {**args, "rotation_days": 0})
    assert early["msg"] == "rotation_days must be 1 to 1000 (Secrets Manager's AutomaticallyAfterDays); 0 was given", early
    short = module(emulator, "rds_managed_master_password",
                   {"db_instance_identifier": "man-mysql", "state": "absent", "master_user_password": "short"})
    assert short["msg"] == "master_user_password must be 8 to 41 characters (RDS for MySQL's master password); 5 were given"

    # Given back: the master user takes the toolkit's password, and RDS deletes its secret,
    # which the lookup then reports whatever on_missing says.
    back = {"db_instance_identifier": "man-mysql", "state": "absent", "master_user_password": "toolkit-password-2",
            "poll_seconds": 1}
    assert module(emulator, "rds_managed_master_password", back)["changed"] is True
    assert "MasterUserSecret" not in rds.describe_db_instances(DBInstanceIdentifier="man-mysql")["DBInstances"][0]
    assert module(emulator, "rds_managed_master_password", back)["changed"] is False
    gone = credentials_lookup(emulator, "man/db", on_missing="skip")
    assert gone.get("failed") and f"db_credentials: no secret {arn} (the master password RDS manages, named by man/db)" \
        in gone["msg"], gone
