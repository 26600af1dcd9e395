"""site.yml on the local environment: every property of the stack, idempotence and teardown,
proven with boto3 against the emulator. Check mode on a converged stack: test_site_production's
(production's inventory, realistic mode, its deployer's policy); here, the compute role's with a
promotion under way."""

import datetime as dt
import json
import subprocess
import time

import pytest
from helpers import ROOT, import_self_signed_certificate, playbook_env, run_playbook

pytestmark = pytest.mark.integration
STACK = "shop-local"


@pytest.fixture(scope="module")
def built(emulator):
    emulator.reset()
    run = run_playbook(emulator, "site.yml")
    assert run.rc == 0, run.output[-5000:]
    return run


@pytest.fixture(scope="module")
def ec2(emulator):
    return emulator.client("ec2")


@pytest.fixture(scope="module")
def vpc(built, ec2):
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Stack", "Values": [STACK]}])["Vpcs"]
    assert len(vpcs) == 1
    return vpcs[0]


def tier_subnets(ec2, vpc, tier):
    return ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]},
                                         {"Name": "tag:Tier", "Values": [tier]}])["Subnets"]


def test_outputs_are_printed(built):
    for key in ("cloudfront_domain:", "alb_dns_name:", "rds_endpoint:", "static_bucket:", "asg_name:", "dashboard:"):
        assert key in built.output
    assert ".cloudfront.net" in built.output
    assert ".elb.amazonaws.com" in built.output


def test_vpc_has_dns_support(ec2, vpc):
    assert vpc["CidrBlock"] == "10.10.0.0/16"
    for attribute, key in (("enableDnsSupport", "EnableDnsSupport"), ("enableDnsHostnames", "EnableDnsHostnames")):
        assert ec2.describe_vpc_attribute(VpcId=vpc["VpcId"], Attribute=attribute)[key]["Value"] is True


@pytest.mark.parametrize("tier, cidrs", [
    ("public", {"10.10.0.0/19", "10.10.32.0/19"}),
    ("app", {"10.10.64.0/19", "10.10.96.0/19"}),
    ("db", {"10.10.128.0/19", "10.10.160.0/19"}),
])
def test_subnet_tiers_are_carved_per_az(ec2, vpc, tier, cidrs):
    subnets = tier_subnets(ec2, vpc, tier)
    assert {s["CidrBlock"] for s in subnets} == cidrs
    assert {s["AvailabilityZone"] for s in subnets} == {"us-east-1a", "us-east-1b"}
    assert not any(s["MapPublicIpOnLaunch"] for s in subnets)


def test_routes_per_tier(ec2, vpc):
    igws = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc["VpcId"]]}])["InternetGateways"]
    assert len(igws) == 1
    nats = ec2.describe_nat_gateways(Filter=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["NatGateways"]
    live = [n for n in nats if n["State"] in ("pending", "available")]
    assert len(live) == 1, "local runs one shared NAT Gateway"
    assert live[0]["SubnetId"] in {s["SubnetId"] for s in tier_subnets(ec2, vpc, "public")}
    assert live[0]["NatGatewayAddresses"][0]["AllocationId"].startswith("eipalloc-")
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]},
                                                {"Name": "tag:Stack", "Values": [STACK]}])["RouteTables"]

    def default_route(tier):
        routes = [r for t in tables if t["Tags"] and {"Key": "Tier", "Value": tier} in t["Tags"]
                  for r in t["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
        return routes

    assert [r["GatewayId"] for r in default_route("public")] == [igws[0]["InternetGatewayId"]]
    assert [r["NatGatewayId"] for r in default_route("app")] == [live[0]["NatGatewayId"]] * 2
    assert default_route("db") == []
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["VpcEndpoints"]
    assert [e["ServiceName"] for e in endpoints] == ["com.amazonaws.us-east-1.s3"]
    app_tables = {t["RouteTableId"] for t in tables if {"Key": "Tier", "Value": "app"} in t["Tags"]}
    assert set(endpoints[0]["RouteTableIds"]) == app_tables


def test_security_groups_are_chained_by_reference(ec2, vpc):
    groups = {g["GroupName"]: g for g in ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}, {"Name": "tag:Stack", "Values": [STACK]}])["SecurityGroups"]}
    alb, web, db, cache = (groups[f"{STACK}-{n}"] for n in ("alb", "web", "db", "cache"))
    # CloudFront only: its origin-facing prefix list, on 80 and 443, and no address range.
    cloudfront = ec2.describe_managed_prefix_lists(
        Filters=[{"Name": "prefix-list-name", "Values": ["com.amazonaws.global.cloudfront.origin-facing"]}])["PrefixLists"][0]
    assert sorted((p["FromPort"], p["ToPort"], [pl["PrefixListId"] for pl in p["PrefixListIds"]], p["IpRanges"])
                  for p in alb["IpPermissions"]) == [
        (80, 80, [cloudfront["PrefixListId"]], []), (443, 443, [cloudfront["PrefixListId"]], [])]

    def sources(group):
        return [(p["FromPort"], p["ToPort"], [u["GroupId"] for u in p["UserIdGroupPairs"]], p["IpRanges"])
                for p in group["IpPermissions"]]

    assert sources(web) == [(80, 80, [alb["GroupId"]], [])]
    assert sources(db) == [(3306, 3306, [web["GroupId"]], [])]
    assert sources(cache) == [(6379, 6379, [web["GroupId"]], [])]


def test_web_role_is_least_privilege(emulator, built):
    iam = emulator.client("iam")
    attached = {p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=f"{STACK}-web")["AttachedPolicies"]}
    assert attached == {"AmazonSSMManagedInstanceCore", "CloudWatchAgentServerPolicy"}
    policy = iam.get_role_policy(RoleName=f"{STACK}-web", PolicyName="stack-read")["PolicyDocument"]
    resources = {s["Sid"]: s["Resource"] for s in policy["Statement"]}
    # The secrets the instances connect with (the master's until the application has its own
    # account: playbooks/database_app_user.yml), each with the suffix Secrets Manager adds.
    prefix = resources["ReadOwnParameters"].split(":parameter/")[0].replace(":ssm:", ":secretsmanager:")
    assert sorted(resources["ReadOwnSecret"]) == [f"{prefix}:secret:{STACK}/{name}-??????"
                                                  for name in ("db", "db-app", "db-restore", "redis-auth")]
    assert resources["ReadOwnParameters"].endswith(f":parameter/{STACK}/*")
    assert resources["ReadReleases"] == f"arn:aws:s3:::{STACK}-static/releases/*"
    assert resources["PublishOrders"].endswith(f":{STACK}-order-events")  # the order relay, that topic only
    assert all(r != "*" for r in resources.values())
    profiles = iam.list_instance_profiles_for_role(RoleName=f"{STACK}-web")["InstanceProfiles"]
    assert [p["InstanceProfileName"] for p in profiles] == [f"{STACK}-web"]


def test_database_properties(emulator, ec2, vpc, built):
    rds = emulator.client("rds")
    db = rds.describe_db_instances(DBInstanceIdentifier=f"{STACK}-mysql")["DBInstances"][0]
    assert db["Engine"] == "mysql" and db["EngineVersion"].startswith("8.")
    assert db["StorageType"] == "gp3" and db["StorageEncrypted"] is True
    assert db["PubliclyAccessible"] is False
    assert db["MultiAZ"] is False  # local: single AZ; production asserts Multi-AZ
    assert db["BackupRetentionPeriod"] == 1
    assert db["PreferredBackupWindow"] == "02:00-02:30"
    assert db["PreferredMaintenanceWindow"] == "sun:03:00-sun:04:00"
    assert db["DeletionProtection"] is False
    assert sorted(db["EnabledCloudwatchLogsExports"]) == ["audit", "error", "general", "slowquery"]
    # Performance Insights off (db.t4g.micro lacks it); Enhanced Monitoring on with the stack's role.
    assert db.get("PerformanceInsightsEnabled") is False
    assert (db["MonitoringInterval"], db["MonitoringRoleArn"]) == (60, f"arn:aws:iam::123456789012:role/{STACK}-rds-monitoring")
    assert db["DBSubnetGroup"]["DBSubnetGroupName"] == f"{STACK}-db"
    db_subnets = {s["SubnetId"] for s in tier_subnets(ec2, vpc, "db")}
    assert {s["SubnetIdentifier"] for s in db["DBSubnetGroup"]["Subnets"]} == db_subnets
    sg = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [f"{STACK}-db"]}])["SecurityGroups"][0]
    assert [g["VpcSecurityGroupId"] for g in db["VpcSecurityGroups"]] == [sg["GroupId"]]
    params = {p["ParameterName"]: p.get("ParameterValue") for p in
              rds.describe_db_parameters(DBParameterGroupName=f"{STACK}-mysql")["Parameters"]}
    assert params["character_set_server"] == "utf8mb4"
    assert params["slow_query_log"] == "1"


def test_master_password_only_in_secrets_manager(emulator, built):
    secret = json.loads(emulator.client("secretsmanager").get_secret_value(SecretId=f"{STACK}/db")["SecretString"])
    assert secret["username"] == "shop_admin"
    assert len(secret["password"]) == 32
    assert secret["host"].startswith(f"{STACK}-mysql.")
    assert secret["password"] not in built.output, "the password leaked into the playbook output"


def test_cache_and_messaging(emulator, built):
    cache = emulator.client("elasticache")
    group = cache.describe_replication_groups(ReplicationGroupId=f"{STACK}-redis")["ReplicationGroups"][0]
    assert (group["AutomaticFailover"], group["MultiAZ"], group["AtRestEncryptionEnabled"], group["TransitEncryptionEnabled"],
            group["AuthTokenEnabled"]) == ("enabled", "enabled", True, True, True)
    members = cache.describe_cache_clusters(ShowCacheNodeInfo=True)["CacheClusters"]
    # A primary and a replica in the stack's two AZs, over the cache subnet group.
    assert sorted((m["CacheClusterId"], m["CacheSubnetGroupName"]) for m in members) == [
        (f"{STACK}-redis-001", f"{STACK}-redis"), (f"{STACK}-redis-002", f"{STACK}-redis")]
    assert len({m["PreferredAvailabilityZone"] for m in members}) == 2
    user = cache.describe_cache_parameters(CacheParameterGroupName=f"{STACK}-redis", Source="user")["Parameters"]
    assert {p["ParameterName"]: p["ParameterValue"] for p in user} == {"maxmemory-policy": "volatile-ttl", "timeout": "300"}
    # The token only in Secrets Manager; the instances are told where it is.
    token = json.loads(emulator.client("secretsmanager").get_secret_value(SecretId=f"{STACK}/redis-auth")["SecretString"])["token"]
    assert len(token) == 64 and token not in built.output
    pages = emulator.client("ssm").get_paginator("get_parameters_by_path").paginate(Path=f"/{STACK}/app", Recursive=True)
    settings = {p["Name"]: p["Value"] for page in pages for p in page["Parameters"]}
    assert settings[f"/{STACK}/app/cache-endpoint"] == f"{group['NodeGroups'][0]['PrimaryEndpoint']['Address']}:6379"
    assert settings[f"/{STACK}/app/cache-secret-name"] == f"{STACK}/redis-auth"
    sqs = emulator.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{STACK}-orders")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(f":{STACK}-orders-dlq")
    assert int(redrive["maxReceiveCount"]) == 5
    sns = emulator.client("sns")
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(f":{STACK}-order-events"))
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [("sqs", attributes["QueueArn"])]


def test_static_bucket_is_private_versioned_encrypted(emulator, built):
    s3 = emulator.client("s3")
    bucket = f"{STACK}-static"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]
    assert lifecycle["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    read = next(s for s in policy["Statement"] if s["Sid"] == "CloudFrontReadsStaticFiles")
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert read["Resource"] == f"arn:aws:s3:::{bucket}/static/*"
    distribution = emulator.client("cloudfront").list_distributions()["DistributionList"]["Items"][0]
    assert read["Condition"]["StringEquals"]["AWS:SourceArn"] == distribution["ARN"]


def test_ssm_transfer_bucket_is_private_encrypted_and_forgets_files(emulator, built):
    s3 = emulator.client("s3")
    bucket = f"{STACK}-ssm-transfer"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    (lifecycle,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert lifecycle["Expiration"]["Days"] == 1 and lifecycle["Status"] == "Enabled"
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced"


def test_cloudfront_serves_static_from_s3_through_oac(emulator, built):
    cloudfront = emulator.client("cloudfront")
    summary = cloudfront.list_distributions()["DistributionList"]["Items"][0]
    config = cloudfront.get_distribution_config(Id=summary["Id"])["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]["Items"]}
    oacs = cloudfront.list_origin_access_controls()["OriginAccessControlList"]["Items"]
    oac = next(o for o in oacs if o["Name"] == f"{STACK}-static")
    assert oac["SigningBehavior"] == "always" and oac["OriginAccessControlOriginType"] == "s3"
    assert origins["s3-static"]["OriginAccessControlId"] == oac["Id"]
    assert origins["s3-static"]["S3OriginConfig"]["OriginAccessIdentity"] == ""
    assert origins["alb-dynamic"]["DomainName"].endswith(".elb.amazonaws.com")
    default = config["DefaultCacheBehavior"]
    assert default["TargetOriginId"] == "alb-dynamic"
    assert default["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
    assert default["ViewerProtocolPolicy"] == "redirect-to-https" and default["Compress"] is True
    assert "POST" in default["AllowedMethods"]["Items"]
    static = config["CacheBehaviors"]["Items"][0]
    assert static["PathPattern"] == "/static/*" and static["TargetOriginId"] == "s3-static"
    assert static["CachePolicyId"] == "658327ea-f89d-4fab-a63d-7e88639e58f6"  # CachingOptimized
    # Security headers on every behaviour (the managed SecurityHeadersPolicy); standard logs.
    assert {b["ResponseHeadersPolicyId"] for b in (default, static)} == {"67f7725c-6f97-4210-82d7-5512b31e9d03"}
    assert config["Logging"] == {"Enabled": True, "IncludeCookies": False, "Bucket": f"{STACK}-logs.s3.amazonaws.com",
                                 "Prefix": "cloudfront/"}
    # The web ACL: managed rule groups and the rate limit, every one blocking; its logs to CloudWatch Logs.
    waf = emulator.client("wafv2")
    (acl,) = [a for a in waf.list_web_acls(Scope="CLOUDFRONT")["WebACLs"] if a["Name"] == STACK]
    assert config["WebACLId"] == acl["ARN"]
    rules = waf.get_web_acl(Name=STACK, Scope="CLOUDFRONT", Id=acl["Id"])["WebACL"]["Rules"]
    assert [(r["Name"], r.get("OverrideAction") or r.get("Action")) for r in rules] == [
        ("ip-reputation", {"None": {}}), ("common", {"None": {}}), ("known-bad-inputs", {"None": {}}),
        ("sql-injection", {"None": {}}), ("rate-limit", {"Block": {}})]
    assert rules[4]["Statement"]["RateBasedStatement"] == {"Limit": 2000, "AggregateKeyType": "IP"}
    assert waf.get_logging_configuration(ResourceArn=acl["ARN"])["LoggingConfiguration"]["LogDestinationConfigs"] == [
        f"arn:aws:logs:us-east-1:{emulator.client('sts').get_caller_identity()['Account']}:log-group:aws-waf-logs-{STACK}"]
    assert static["ViewerProtocolPolicy"] == "redirect-to-https" and static["Compress"] is True


def test_load_balancer_and_target_group(emulator, ec2, vpc, built):
    elb = emulator.client("elbv2")
    alb = elb.describe_load_balancers(Names=[STACK])["LoadBalancers"][0]
    assert alb["Scheme"] == "internet-facing"
    assert {a["SubnetId"] for a in alb["AvailabilityZones"]} == {s["SubnetId"] for s in tier_subnets(ec2, vpc, "public")}
    attributes = {a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(LoadBalancerArn=alb["LoadBalancerArn"])["Attributes"]}
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attributes["deletion_protection.enabled"] == "false"
    listeners = elb.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]
    assert [(lst["Port"], lst["Protocol"]) for lst in listeners] == [(80, "HTTP")]  # no certificate locally
    tg = elb.describe_target_groups(Names=[f"{STACK}-web"])["TargetGroups"][0]
    assert tg["HealthCheckPath"] == "/health" and tg["Matcher"]["HttpCode"] == "200"
    # The origin lock: 403 by default, forwarded only with the secret CloudFront sends.
    assert listeners[0]["DefaultActions"][0]["Type"] == "fixed-response"
    assert listeners[0]["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"] == "403"
    rules = [r for r in elb.describe_rules(ListenerArn=listeners[0]["ListenerArn"])["Rules"] if not r["IsDefault"]]
    secret = json.loads(emulator.client("secretsmanager").get_secret_value(SecretId=f"{STACK}/origin-verify")["SecretString"])
    assert len(secret["current"]) == 40 and set(secret) == {"current"}
    assert [(r["Priority"], r["Conditions"][0]["HttpHeaderConfig"], r["Actions"][0]["TargetGroupArn"]) for r in rules] == [
        ("1", {"HttpHeaderName": "X-Origin-Verify", "Values": [secret["current"]]}, tg["TargetGroupArn"])]
    cloudfront = emulator.client("cloudfront")
    distribution = cloudfront.list_distributions()["DistributionList"]["Items"][0]
    origin = next(o for o in cloudfront.get_distribution_config(Id=distribution["Id"])["DistributionConfig"]["Origins"]["Items"]
                  if o["Id"] == "alb-dynamic")
    assert origin["CustomHeaders"] == {"Quantity": 1, "Items": [{"HeaderName": "X-Origin-Verify", "HeaderValue": secret["current"]}]}
    # The secret is in no log: not in the run's output.
    assert secret["current"] not in built.output
    # Access logs to the stack's log bucket, under alb/.
    assert (attributes["access_logs.s3.enabled"], attributes["access_logs.s3.bucket"], attributes["access_logs.s3.prefix"]) == (
        "true", f"{STACK}-logs", "alb")


def test_the_log_bucket_admits_elb_log_delivery_over_tls_only_and_expires_the_logs(emulator, built):
    s3 = emulator.client("s3")
    bucket = f"{STACK}-logs"
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"  # what ALB access logs need
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    # ACLs enabled: CloudFront's standard logs are delivered through them.
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == "BucketOwnerPreferred"
    (lifecycle,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert lifecycle["Expiration"]["Days"] == 90 and lifecycle["Status"] == "Enabled"
    statements = {st["Sid"]: st for st in json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]}
    account = emulator.client("sts").get_caller_identity()["Account"]
    assert statements["ElbAccessLogs"]["Principal"] == {"AWS": "arn:aws:iam::127311923021:root"}  # us-east-1's ELB
    assert statements["ElbAccessLogs"]["Resource"] == f"arn:aws:s3:::{bucket}/alb/AWSLogs/{account}/*"
    assert statements["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_launch_template_and_auto_scaling_group(emulator, ec2, vpc, built):
    version = ec2.describe_launch_template_versions(LaunchTemplateName=f"{STACK}-web", Versions=["$Latest"])[
        "LaunchTemplateVersions"][0]["LaunchTemplateData"]
    assert version["MetadataOptions"]["HttpTokens"] == "required"
    ebs = version["BlockDeviceMappings"][0]["Ebs"]
    assert ebs["Encrypted"] is True and ebs["VolumeType"] == "gp3"
    assert version["IamInstanceProfile"]["Arn"].endswith(f"instance-profile/{STACK}-web")
    import base64
    user_data = base64.b64decode(version["UserData"]).decode()
    assert f"SHOP_SETTINGS_PATH=/{STACK}/app/" in user_data and "password" not in user_data.lower()
    autoscaling = emulator.client("autoscaling")
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[f"{STACK}-web"])["AutoScalingGroups"][0]
    assert (group["MinSize"], group["MaxSize"], group["DesiredCapacity"]) == (1, 3, 1)
    assert group["HealthCheckType"] == "ELB" and group["HealthCheckGracePeriod"] == 30  # the local inventory's
    assert set(group["VPCZoneIdentifier"].split(",")) == {s["SubnetId"] for s in tier_subnets(ec2, vpc, "app")}
    assert len(group["TargetGroupARNs"]) == 1 and "targetgroup/shop-local-web/" in group["TargetGroupARNs"][0]
    policies = {p["PolicyName"]: p for p in autoscaling.describe_policies(AutoScalingGroupName=f"{STACK}-web")["ScalingPolicies"]}
    cpu = policies[f"{STACK}-web-cpu"]
    assert cpu["PolicyType"] == "TargetTrackingScaling" and cpu["EstimatedInstanceWarmup"] == 10
    assert cpu["TargetTrackingConfiguration"]["TargetValue"] == 50.0
    requests = policies[f"{STACK}-web-requests"]["TargetTrackingConfiguration"]
    assert requests["PredefinedMetricSpecification"]["PredefinedMetricType"] == "ALBRequestCountPerTarget"
    assert requests["PredefinedMetricSpecification"]["ResourceLabel"].startswith(f"app/{STACK}/")


def test_monitoring(emulator, built):
    cloudwatch = emulator.client("cloudwatch")
    alarms = {a["AlarmName"]: a for a in cloudwatch.describe_alarms(AlarmNamePrefix=f"{STACK}-")["MetricAlarms"]}
    assert set(alarms) == {f"{STACK}-{n}" for n in ("target-5xx", "elb-5xx", "response-time-p95", "unhealthy-hosts",
                                                   "db-cpu", "db-free-storage", "db-connections", "asg-at-max")}
    assert alarms[f"{STACK}-asg-at-max"]["Threshold"] == 3.0
    assert alarms[f"{STACK}-response-time-p95"]["ExtendedStatistic"] == "p95"
    assert all(a["AlarmActions"] and a["AlarmActions"][0].endswith(f":{STACK}-alerts") for a in alarms.values())
    body = json.loads(cloudwatch.get_dashboard(DashboardName=STACK)["DashboardBody"])
    assert len(body["widgets"]) == 7
    logs = emulator.client("logs")
    groups = {g["logGroupName"]: g.get("retentionInDays") for g in logs.describe_log_groups(logGroupNamePrefix=f"/{STACK}/")["logGroups"]}
    assert groups and set(groups.values()) == {7}


def test_second_run_changes_nothing(emulator, built):
    emulator.stats(reset=True)
    run = run_playbook(emulator, "site.yml")
    assert run.rc == 0, run.output[-5000:]
    assert run.recap["changed"] == 0, run.output[-8000:]
    calls = emulator.stats()
    # The stack is read once (shop.aws.stack_info is the only reader of the NAT Gateways when
    # nothing changes), and the run stays well under the 394 calls it made before stack_info
    # (224 since the edge's parts: the origin secret, the prefix list, the log bucket, the ALB's
    # listeners read before they are converged and their rules converged in a second call; 247
    # since the messages key, 7 reads of kms_key_info, the topics' encryption, 2, and the budget,
    # its account, itself, its notifications and their 3 subscribers; 257 since the database's
    # option group, 2 reads and its tags, and the Enhanced Monitoring role, 7 reads of iam_role;
    # 276 since AWS Backup: 15 reads of the vault, the plan and the selection by amazon.aws's
    # modules, which find a plan by listing them, and 4 of the AWS Backup role; 281 since the
    # Redis replication group: the group, its first member, its parameter values and its tags
    # are read, 5 calls more than the single node took; 288 since the application's own account:
    # its secret read and converged by the database role, read again for the endpoint, and the
    # published setting read by the security role for the web role's secrets, 7 calls).
    assert calls["calls"].get("ec2:DescribeNatGateways") == 1, calls
    assert calls["total"] <= 288, calls


def plan_sh(emulator, folder, *extra, playbook="site.yml") -> tuple[int, str]:
    """scripts/plan.sh against the emulator, as run_playbook runs a playbook: (exit status, output)."""
    env = playbook_env(emulator, SHOP_PLAN_DIR=str(folder))
    command = ["scripts/plan.sh", playbook, "-i", "inventories/local", "-e", json.dumps(
        {"aws_endpoint_url": emulator.url, "aws_access_key": "testing", "aws_secret_key": "testing"}), *extra]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "output.log").write_text(done.stdout + done.stderr)
    return done.returncode, done.stdout + done.stderr


def test_a_plan_names_each_predicted_change_and_exits_2_while_changes_are_pending(emulator, built, tmp_path):
    """scripts/plan.sh with the issue's three changes in the inventory: the group's maximum
    3 -> 5 (the compute role's prediction), the database's backup retention 1 -> 7 (the database
    role's, which supersedes amazon.aws.rds_instance's bare "changed"; applied in the maintenance
    window, no downtime) and the six log groups' retention 7 -> 14 (each a member of
    shop.aws.cloudwatch_log_groups), in the printed plan, plan.json and plan.md; exit 2. With them
    a change with downtime (the cache's node type, applied now), the instance type of the launch
    template (a new version, the module's bare "changed" superseded; the budget follows the
    cost), the ALB's idle timeout and the target group's deregistration delay."""
    rc, output = plan_sh(emulator, tmp_path / "pending", "-e", json.dumps(
        {"compute_max_size": 5, "database_backup_retention_days": 7, "monitoring_log_retention_days": 14,
         "cache_node_type": "cache.t4g.small", "compute_instance_type": "t3.small",
         "loadbalancer_idle_timeout": 120, "loadbalancer_deregistration_delay": 30}))
    assert rc == 2, output[-5000:]
    plan = json.loads((tmp_path / "pending" / "plan.json").read_text())
    entries = {(e["resource"], e["name"]): e for e in plan["resources"]}
    group = entries[("amazon.aws.autoscaling_group", f"{STACK}-web")]
    # The group moves to the template's new version (the instance type's).
    version = emulator.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[f"{STACK}-web"])["AutoScalingGroups"][0]["LaunchTemplate"]["Version"]
    assert group["action"] == "change" and group["attributes"] == {
        "max_size": {"before": 3, "after": 5}, "launch template version": {"before": version, "after": "(new)"}}, plan
    database = [e for e in plan["resources"] if e["resource"] == "amazon.aws.rds_instance"]
    assert [(e["action"], e["attributes"], e.get("downtime")) for e in database] == [
        ("change", {"backup_retention_period": {"before": 1, "after": 7}}, None)], plan
    logs = [e for e in plan["resources"] if e["resource"] == "shop.aws.cloudwatch_log_groups"]
    assert len(logs) == 6 and all(e["attributes"] == {"retention": {"before": 7, "after": 14}} for e in logs), plan
    cache = entries[("shop.aws.elasticache_replication_group", f"{STACK}-redis")]
    assert cache["action"] == "change" and cache["downtime"] is True and cache["applies"] == "now", cache
    assert cache["attributes"] == {"node_type": {"before": "cache.t4g.micro", "after": "cache.t4g.small"}}, cache
    template = entries[("amazon.aws.ec2_launch_template", f"{STACK}-web")]
    assert template["action"] == "change" and "rolling_update.yml" in template["note"], template
    assert template["attributes"] == {"instance_type": {"before": "t3.micro", "after": "t3.small"}}, template
    # A larger instance type raises the stack's estimated cost, and the budget's limit with it.
    budget = entries[("shop.aws.budget", f"{STACK}-monthly")]
    assert budget["action"] == "change" and set(budget["attributes"]) == {"limit_usd"}, budget
    assert budget["attributes"]["limit_usd"]["after"] > budget["attributes"]["limit_usd"]["before"], budget
    alb = entries[("amazon.aws.elb_application_lb", STACK)]
    assert alb["action"] == "change" and alb["attributes"] == {"idle_timeout": {"before": 60, "after": 120}}, alb
    target_group = entries[("community.aws.elb_target_group", f"{STACK}-web")]
    assert target_group["attributes"] == {"deregistration_delay_timeout_seconds": {"before": 5, "after": 30}}, target_group
    # The alarm on the group at its maximum follows the maximum.
    at_max = entries[("shop.aws.cloudwatch_metric_alarms", f"{STACK}-asg-at-max")]
    assert at_max["attributes"] == {"Threshold": {"before": 3.0, "after": 5.0}}, at_max
    assert plan["counts"] == {"add": 0, "change": 14, "replace": 0, "destroy": 0}, plan
    assert "Plan: 0 to add, 14 to change, 0 to replace, 0 to destroy" in output, output[-5000:]
    assert "max_size: 3 -> 5" in output and "backup_retention_period: 1 -> 7" in output
    assert f"{STACK}-redis [downtime (now)] (node_type: cache.t4g.micro -> cache.t4g.small" in output, output[-5000:]
    markdown = (tmp_path / "pending" / "plan.md").read_text()
    assert "`retention`: 7 -> 14" in markdown and "| downtime (now) |" in markdown, markdown


def test_a_name_rds_fixed_at_creation_is_refused_in_the_plan_as_in_the_run(emulator, built, tmp_path):
    """RDS sets the master user's name and the first database's only at creation: the check run
    and the run refuse another, naming the variable, the instance's value and the one given."""
    rc, output = plan_sh(emulator, tmp_path / "fixed", "--tags", "role::database", "-e",
                         json.dumps({"database_master_username": "shop_root"}))
    expected = f"database_master_username cannot change on {STACK}-mysql (its master user is shop_admin, got shop_root)"
    assert rc == 1 and expected in output and "database_db_name" not in output, output[-5000:]
    assert "plan: the check run failed (ansible-playbook exit status 2): no plan" in output, output[-2000:]
    run = run_playbook(emulator, "site.yml", "--tags", "role::database", extra={"database_db_name": "store"})
    assert run.rc != 0 and run.recap["changed"] == 0, run.output[-5000:]
    assert f"database_db_name cannot change on {STACK}-mysql (its database is shop, got store): RDS sets it only" in run.output
    assert "database_master_username cannot change" not in run.output, run.output[-3000:]


def test_a_rolling_update_plans_the_instances_it_replaces(emulator, built, tmp_path):
    """playbooks/rolling_update.yml's check run with another AMI: the group's instances to
    replace (image and launch template version before -> after), the template's new version."""
    ec2 = emulator.client("ec2")
    group = emulator.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[f"{STACK}-web"])["AutoScalingGroups"][0]
    version = group["LaunchTemplate"]["Version"]
    current = ec2.describe_launch_template_versions(LaunchTemplateId=group["LaunchTemplate"]["LaunchTemplateId"],
                                                    Versions=[version])["LaunchTemplateVersions"][0]
    old_ami = current["LaunchTemplateData"]["ImageId"]
    new_ami = next(i["ImageId"] for i in ec2.describe_images(Owners=["amazon"])["Images"]
                   if i["ImageId"] != old_ami and i["State"] == "available")
    rc, output = plan_sh(emulator, tmp_path / "roll", "-e", json.dumps({"rollout_ami_id": new_ami}),
                         playbook="playbooks/rolling_update.yml")
    assert rc == 2, output[-5000:]
    plan = json.loads((tmp_path / "roll" / "plan.json").read_text())
    replaced = [e for e in plan["resources"] if e["action"] == "replace"]
    assert [(e["resource"], e["name"]) for e in replaced] == [
        ("amazon.aws.ec2_instance", f"{STACK}-web ({group['DesiredCapacity']} instance{'' if group['DesiredCapacity'] == 1 else 's'})")], plan
    assert replaced[0]["attributes"] == {"image_id": {"before": old_ami, "after": new_ami},
                                         "launch template version": {"before": version, "after": "(new)"}}, replaced
    assert plan["counts"]["replace"] == 1 and plan["counts"]["destroy"] == 0, plan
    assert "replace  amazon.aws.ec2_instance" in output and "[replacement]" in output, output[-5000:]
    # A check run launched nothing and made no version.
    after = emulator.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[f"{STACK}-web"])["AutoScalingGroups"][0]
    assert after["LaunchTemplate"]["Version"] == version


def test_a_change_behind_the_toolkit_is_put_back(emulator, built, ec2, vpc, tmp_path):
    """What the look-up lets a no-op run skip is still converged when it drifts; the plan
    (scripts/plan.sh) reports each drift first, and nothing once converged."""
    subnet = tier_subnets(ec2, vpc, "app")[0]
    ec2.create_tags(Resources=[subnet["SubnetId"]], Tags=[{"Key": "Name", "Value": "renamed by hand"}])
    public_rt = ec2.describe_route_tables(Filters=[{"Name": "tag:Name", "Values": [f"{STACK}-public"]}])["RouteTables"][0]
    ec2.delete_route(RouteTableId=public_rt["RouteTableId"], DestinationCidrBlock="0.0.0.0/0")
    emulator.client("logs").put_retention_policy(logGroupName=f"/{STACK}/web/app", retentionInDays=1)
    ssm = emulator.client("ssm")
    ssm.put_parameter(Name=f"/{STACK}/app/region", Value="xx-nowhere-1", Type="String", Overwrite=True)
    cloudwatch = emulator.client("cloudwatch")
    alarm = cloudwatch.describe_alarms(AlarmNames=[f"{STACK}-db-cpu"])["MetricAlarms"][0]
    cloudwatch.put_metric_alarm(**{key: alarm[key] for key in (
        "AlarmName", "Namespace", "MetricName", "Dimensions", "Statistic", "ComparisonOperator", "Period",
        "EvaluationPeriods", "AlarmActions", "OKActions")}, Threshold=99.0)
    # The drift issue 19 names: a security group rule added, the group's maximum changed, a
    # bucket's public access block removed, an alarm deleted.
    web_sg = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [f"{STACK}-web"]}])["SecurityGroups"][0]
    ec2.authorize_security_group_ingress(GroupId=web_sg["GroupId"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    autoscaling = emulator.client("autoscaling")
    group = autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"][0]["AutoScalingGroupName"]
    autoscaling.update_auto_scaling_group(AutoScalingGroupName=group, MaxSize=4)
    emulator.client("s3").delete_public_access_block(Bucket=f"{STACK}-static")
    cloudwatch.delete_alarms(AlarmNames=[f"{STACK}-unhealthy-hosts"])

    drift = plan_sh(emulator, tmp_path / "drift")
    assert drift[0] == 2, drift[1][-8000:]
    plan = json.loads((tmp_path / "drift" / "plan.json").read_text())
    found = {(e["resource"], e["name"]): e for e in plan["resources"]}
    expected = {
        ("amazon.aws.ec2_security_group", f"{STACK}-web"): ("change", "ip_permissions"),
        ("amazon.aws.autoscaling_group", group): ("change", "max_size"),
        ("shop.aws.cloudwatch_metric_alarms", f"{STACK}-unhealthy-hosts"): ("add", "AlarmName"),
        ("shop.aws.cloudwatch_metric_alarms", f"{STACK}-db-cpu"): ("change", "Threshold"),
        ("shop.aws.cloudwatch_log_groups", f"/{STACK}/web/app"): ("change", "retention"),
        ("shop.aws.ssm_parameters", f"/{STACK}/app/region"): ("change", "value"),
        ("amazon.aws.ec2_vpc_subnet", f"{STACK}-app-{subnet['AvailabilityZone']}"): ("change", "tag Name"),
        ("amazon.aws.ec2_vpc_route_table", f"{STACK}-public"): ("change", "routes"),
        ("amazon.aws.s3_bucket", f"{STACK}-static"): ("change", "public_access"),
    }
    for key, (action, attribute) in expected.items():
        assert key in found and found[key]["action"] == action, (key, sorted(found))
        assert attribute is None or attribute in found[key]["attributes"], (key, found[key])
    assert found[("amazon.aws.autoscaling_group", group)]["attributes"]["max_size"] == {"before": 4, "after": 3}
    routes = found[("amazon.aws.ec2_vpc_route_table", f"{STACK}-public")]["attributes"]["routes"]
    assert routes["before"] == [] and len(routes["after"]) == 1 and routes["after"][0].startswith("0.0.0.0/0 -> igw-"), routes
    renamed = found[("amazon.aws.ec2_vpc_subnet", f"{STACK}-app-{subnet['AvailabilityZone']}")]["attributes"]
    assert renamed == {"tag Name": {"before": "renamed by hand", "after": f"{STACK}-app-{subnet['AvailabilityZone']}"}}
    # amazon.aws.s3_bucket skips check runs: shop.aws.s3_bucket_plan read the bucket instead.
    block = found[("amazon.aws.s3_bucket", f"{STACK}-static")]["attributes"]["public_access"]
    assert block["before"] == dict.fromkeys(block["after"], False) and all(block["after"].values()), block
    assert len(found) == len(expected), sorted(found)

    run = run_playbook(emulator, "site.yml", "--diff")
    assert run.rc == 0, run.output[-5000:]
    # The subnets, the public route table, the log groups, the settings, the alarms, the web
    # security group, the Auto Scaling group and the static bucket.
    assert run.recap["changed"] == 8, run.output[-8000:]
    block = emulator.client("s3").get_public_access_block(Bucket=f"{STACK}-static")["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    settled = plan_sh(emulator, tmp_path / "settled")
    assert settled[0] == 0 and "Plan: 0 to add, 0 to change, 0 to replace, 0 to destroy" in settled[1], settled[1][-8000:]
    routes = ec2.describe_route_tables(RouteTableIds=[public_rt["RouteTableId"]])["RouteTables"][0]["Routes"]
    assert [r.get("GatewayId", "").startswith("igw-") for r in routes if r.get("DestinationCidrBlock") == "0.0.0.0/0"] == [True]
    groups = emulator.client("logs").describe_log_groups(logGroupNamePrefix=f"/{STACK}/web/app")["logGroups"]
    assert [g["retentionInDays"] for g in groups] == [7]
    assert ssm.get_parameter(Name=f"/{STACK}/app/region")["Parameter"]["Value"] == "us-east-1"
    tags = {t["Key"]: t["Value"] for t in ec2.describe_subnets(SubnetIds=[subnet["SubnetId"]])["Subnets"][0]["Tags"]}
    assert tags["Name"] == f"{STACK}-app-{subnet['AvailabilityZone']}"
    restored = cloudwatch.describe_alarms(AlarmNames=[f"{STACK}-db-cpu"])["MetricAlarms"][0]
    assert restored["Threshold"] == alarm["Threshold"] != 99.0
    assert "Threshold" in run.output and "99.0" in run.output  # the diff shows before -> after


def test_the_origin_lock_turned_on_for_a_live_alb_refuses_only_once_cloudfront_sends_the_secret(emulator, built):
    elb, cloudfront = emulator.client("elbv2"), emulator.client("cloudfront")
    alb = elb.describe_load_balancers(Names=[STACK])["LoadBalancers"][0]

    def state():
        (listener,) = elb.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]
        rules = [r for r in elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"] if not r["IsDefault"]]
        summary = cloudfront.list_distributions()["DistributionList"]["Items"][0]
        origin = next(o for o in cloudfront.get_distribution_config(Id=summary["Id"])["DistributionConfig"]["Origins"]["Items"]
                      if o["Id"] == "alb-dynamic")
        return listener["DefaultActions"][0]["Type"], len(rules), origin["CustomHeaders"]["Quantity"]

    tags = ("--tags", "role::loadbalancer,role::cdn")
    off = run_playbook(emulator, "site.yml", *tags, extra={"loadbalancer_origin_lock": False})
    assert off.rc == 0 and state() == ("forward", 0, 0), off.output[-4000:]
    # Turned on with the loadbalancer's tag alone, a live ALB gains its rule and keeps forwarding
    # until CloudFront sends the secret.
    waiting = run_playbook(emulator, "site.yml", "--tags", "role::loadbalancer")
    assert waiting.rc == 0 and state() == ("forward", 1, 0), waiting.output[-4000:]
    assert "still forwards requests without the origin secret" in waiting.output
    # With the CDN's: the header through CloudFront, its deployment awaited, and only then the 403.
    on = run_playbook(emulator, "site.yml", *tags)
    assert on.rc == 0 and state() == ("fixed-response", 1, 1), on.output[-4000:]
    order = [on.output.index(task) for task in ("then give its listeners their rules", "await | Wait for the distribution",
                                                "lock | Answer 403 by default, now")]
    assert order == sorted(order), order
    assert "still forwards requests without the origin secret" not in on.output


def test_a_converge_keeps_the_capacity_of_a_promotion_under_way(emulator, built):
    """The promotion's scale-out has run (min 1 -> 2, max 3 -> 5): a converge for another reason
    keeps those limits while the promotion runs, and says so; once the promotion is gone from the
    inventory, the base limits return."""
    autoscaling, name = emulator.client("autoscaling"), f"{STACK}-web"
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    # What autoscaling_promotions scheduled for it (a start 1 minute on, scaling out 1 minute ahead).
    flash = {"name": "flash-sale", "start": f"{now + dt.timedelta(seconds=62):%Y-%m-%dT%H:%M:%SZ}",
             "end": f"{now + dt.timedelta(hours=3):%Y-%m-%dT%H:%M:%SZ}", "min_size": 2, "max_size": 5, "scale_out_minutes": 1}
    autoscaling.put_scheduled_update_group_action(AutoScalingGroupName=name, ScheduledActionName="promotion-flash-sale-scale-out",
                                                  StartTime=now + dt.timedelta(seconds=2), MinSize=2, MaxSize=5)

    def limits():
        group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]
        return group["MinSize"], group["MaxSize"], group["DesiredCapacity"]

    deadline = time.monotonic() + 30
    while limits() != (2, 5, 2) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert limits() == (2, 5, 2), "the scheduled scale-out did not run"

    held = run_playbook(emulator, "site.yml", "--tags", "role::compute", "--diff", extra={"compute_promotions": [flash]})
    assert held.rc == 0, held.output[-5000:]
    assert limits() == (2, 5, 2), held.output[-5000:]
    said = " ".join(held.output.split())  # the callback wraps long messages
    assert (f"Promotion flash-sale is under way (scale-out at {now + dt.timedelta(seconds=2):%Y-%m-%dT%H:%M:%SZ}, "
            "scale-back at") in said, held.output[-8000:]
    assert "The group keeps min 2 and max 5 until then, not the inventory's 1 and 3." in said
    actions = autoscaling.describe_scheduled_actions(AutoScalingGroupName=name)["ScheduledUpdateGroupActions"]
    assert [(a["ScheduledActionName"], a["MinSize"], a["MaxSize"]) for a in actions] == [
        ("promotion-flash-sale-scale-back", 1, 3)]
    check = run_playbook(emulator, "site.yml", "--tags", "role::compute", "--check", extra={"compute_promotions": [flash]})
    assert check.rc == 0 and check.recap["changed"] == 0, check.output[-5000:]

    ended = run_playbook(emulator, "site.yml", "--tags", "role::compute", "--diff")  # the promotion taken out
    assert ended.rc == 0, ended.output[-5000:]
    assert limits() == (1, 3, 2) and "Promotion flash-sale is under way" not in " ".join(ended.output.split())
    assert autoscaling.describe_scheduled_actions(AutoScalingGroupName=name)["ScheduledUpdateGroupActions"] == []


def test_with_a_certificate_http_redirects_to_https_under_tls_13(emulator, built):
    """The live ALB given a certificate: HTTP redirects to HTTPS, and HTTPS uses the TLS 1.3 policy."""
    arn = import_self_signed_certificate(emulator.client("acm"), "shop.example.com")
    run = run_playbook(emulator, "site.yml", "--tags", "role::loadbalancer", extra={"loadbalancer_certificate_arn": arn})
    assert run.rc == 0, run.output[-4000:]
    elb = emulator.client("elbv2")
    alb = elb.describe_load_balancers(Names=[STACK])["LoadBalancers"][0]
    listeners = {lst["Port"]: lst for lst in elb.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]}
    assert set(listeners) == {80, 443}
    redirect = listeners[80]["DefaultActions"][0]
    assert redirect["Type"] == "redirect" and redirect["RedirectConfig"]["Protocol"] == "HTTPS"
    assert redirect["RedirectConfig"]["StatusCode"] == "HTTP_301"
    assert listeners[443]["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert listeners[443]["Certificates"][0]["CertificateArn"] == arn
    # The origin lock moves to the HTTPS listener: 403 by default, forwarded with CloudFront's header.
    assert listeners[443]["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"] == "403"
    (rule,) = [r for r in elb.describe_rules(ListenerArn=listeners[443]["ListenerArn"])["Rules"] if not r["IsDefault"]]
    assert rule["Conditions"][0]["HttpHeaderConfig"]["HttpHeaderName"] == "X-Origin-Verify"
    assert [r for r in elb.describe_rules(ListenerArn=listeners[80]["ListenerArn"])["Rules"] if not r["IsDefault"]] == []
    again = run_playbook(emulator, "site.yml", "--tags", "role::loadbalancer", extra={"loadbalancer_certificate_arn": arn})
    assert again.rc == 0 and again.recap["changed"] == 0, again.output[-4000:]


BEFORE_DESTROY: dict = {}


def test_rds_takes_the_master_password_over_once_the_application_has_its_own_account(emulator, built):
    """Once playbooks/database_app_user.yml has made the account and switched the fleet (here: its
    two marks, without a fleet), a build has RDS manage the master password: its secret holds the
    master user, <stack>/db names it and keeps no password; the destroy below deletes it with the
    instance, and the rebuild after gives the new instance a new password of the toolkit's."""
    secrets, rds = emulator.client("secretsmanager"), emulator.client("rds")
    app = json.loads(secrets.get_secret_value(SecretId=f"{STACK}/db-app")["SecretString"])
    secrets.put_secret_value(SecretId=f"{STACK}/db-app", SecretString=json.dumps({**app, "provisioned": True}))
    emulator.client("ssm").put_parameter(Name=f"/{STACK}/app/db-secret-name", Value=f"{STACK}/db-app", Overwrite=True)
    run = run_playbook(emulator, "site.yml", "--tags", "role::database")
    assert run.rc == 0, run.output[-5000:]
    arn = rds.describe_db_instances(DBInstanceIdentifier=f"{STACK}-mysql")["DBInstances"][0]["MasterUserSecret"]["SecretArn"]
    master = json.loads(secrets.get_secret_value(SecretId=f"{STACK}/db")["SecretString"])
    managed = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])
    assert master["masterUserSecretArn"] == arn and "password" not in master and master["host"].startswith(f"{STACK}-mysql.")
    assert managed["username"] == "shop_admin" and managed["password"] not in run.output
    assert secrets.describe_secret(SecretId=arn)["RotationRules"]["AutomaticallyAfterDays"] == 7
    again = run_playbook(emulator, "site.yml", "--tags", "role::database")
    assert again.rc == 0 and "managed_master" in again.output and again.recap["changed"] == 0, again.output[-5000:]
    BEFORE_DESTROY["managed"] = arn


def test_destroy_leaves_nothing_billable(emulator, built, tmp_path):
    """The destroy's plan first (check mode: every resource to destroy, by name, the buckets
    with it though amazon.aws.s3_bucket skips check runs), then the destroy."""
    rc, output = plan_sh(emulator, tmp_path / "destroy", playbook="playbooks/destroy.yml")
    assert rc == 2, output[-8000:]
    plan = json.loads((tmp_path / "destroy" / "plan.json").read_text())
    destroyed = {(e["resource"], e["name"]) for e in plan["resources"] if e["action"] == "destroy"}
    for key in [("amazon.aws.rds_instance", f"{STACK}-mysql"), ("shop.aws.elasticache_replication_group", f"{STACK}-redis"),
                ("amazon.aws.autoscaling_group", f"{STACK}-web"), ("amazon.aws.ec2_launch_template", f"{STACK}-web"),
                ("amazon.aws.elb_application_lb", STACK), ("shop.aws.cloudfront_distribution_config", f"{STACK} shop"),
                ("amazon.aws.s3_bucket", f"{STACK}-static"), ("amazon.aws.s3_bucket", f"{STACK}-logs"),
                ("amazon.aws.ec2_security_group", f"{STACK}-db"), ("amazon.aws.ec2_vpc_net", STACK),
                ("amazon.aws.ec2_vpc_nat_gateway", None)]:
        assert key in destroyed or (key[1] is None and key[0] in {r for r, _ in destroyed}), (key, sorted(destroyed))
    # One entry a resource: the rules emptied before a security group's deletion fold into it,
    # the deletions started and awaited (the cache, the distribution) count once.
    assert plan["counts"] == {"add": 0, "change": 0, "replace": 0, "destroy": len(destroyed)}, plan
    assert len(destroyed) == len(plan["resources"]), plan
    assert "to destroy" in output and emulator.client("rds").describe_db_instances()["DBInstances"], output[-3000:]
    secrets = emulator.client("secretsmanager")
    BEFORE_DESTROY["db"] = secrets.get_secret_value(SecretId=f"{STACK}/db")["SecretString"]
    run = run_playbook(emulator, "playbooks/destroy.yml")
    assert run.rc == 0, run.output[-5000:]
    from billable import billable_resources
    assert billable_resources(emulator, "us-east-1") == {}
    snapshots = emulator.client("rds").describe_db_snapshots(DBInstanceIdentifier=f"{STACK}-mysql")["DBSnapshots"]
    assert [s["DBSnapshotIdentifier"].startswith(f"{STACK}-mysql-final-") for s in snapshots] == [True]
    assert "DeletedDate" in emulator.client("secretsmanager").describe_secret(SecretId=f"{STACK}/db")
    # The application account's goes at once: a rebuild makes a new one (docs/fleet.md).
    with pytest.raises(secrets.exceptions.ResourceNotFoundException):
        secrets.describe_secret(SecretId=f"{STACK}/db-app")


def test_a_rebuild_within_the_recovery_window_brings_the_database_secret_back(emulator, built):
    """The destroy scheduled the master credentials' deletion (7 days); a build within that window
    restores the secret rather than failing on it, with a password for the new instance (RDS
    managed the last one's). The database and what it stands on are enough to show it."""
    rebuilt = run_playbook(emulator, "site.yml", "--tags", "role::network,role::security,role::database")
    assert rebuilt.rc == 0, rebuilt.output[-5000:]
    secrets = emulator.client("secretsmanager")
    assert "DeletedDate" not in secrets.describe_secret(SecretId=f"{STACK}/db")
    restored = json.loads(secrets.get_secret_value(SecretId=f"{STACK}/db")["SecretString"])
    # RDS managed the password and deleted its secret with the instance: a new one of the toolkit's.
    assert len(restored["password"]) == 32 and "masterUserSecretArn" not in restored
    assert {k: v for k, v in restored.items() if k != "password"} == {
        k: v for k, v in json.loads(BEFORE_DESTROY["db"]).items() if k != "masterUserSecretArn"}
    with pytest.raises(secrets.exceptions.ResourceNotFoundException):
        secrets.describe_secret(SecretId=BEFORE_DESTROY["managed"])
    app = json.loads(secrets.get_secret_value(SecretId=f"{STACK}/db-app")["SecretString"])
    assert app["username"] == "shop_app" and "provisioned" not in app and app["host"] == restored["host"]
    destroyed = run_playbook(emulator, "playbooks/destroy.yml")
    assert destroyed.rc == 0, destroyed.output[-5000:]
