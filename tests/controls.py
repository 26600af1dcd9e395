"""AWS Foundational Security Best Practices controls, evaluated against what the emulator holds
for a stack (not against its inventory): each gives (control, holds, evidence).

The controls' definitions are Security Hub's (AWS Security Hub User Guide, "Security Hub controls
reference"); each function reads the resources the control is about, as its rule would.
"""

from __future__ import annotations

import json


def evaluate(emulator, region: str, stack: str) -> list[tuple[str, bool, str]]:
    ec2 = emulator.client("ec2", region)
    elb = emulator.client("elbv2", region)
    autoscaling = emulator.client("autoscaling", region)
    cloudfront = emulator.client("cloudfront", region)
    s3 = emulator.client("s3", region)
    vpc = ec2.describe_vpcs(Filters=[{"Name": "tag:Stack", "Values": [stack]}])["Vpcs"][0]
    instances = [i for r in ec2.describe_instances(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Reservations"]
                 for i in r["Instances"] if i["State"]["Name"] not in ("terminated", "shutting-down")]
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[f"{stack}-web"])["AutoScalingGroups"][0]
    template = ec2.describe_launch_template_versions(LaunchTemplateName=f"{stack}-web", Versions=["$Latest"])[
        "LaunchTemplateVersions"][0]["LaunchTemplateData"]
    alb = elb.describe_load_balancers(Names=[stack])["LoadBalancers"][0]
    attributes = {a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(LoadBalancerArn=alb["LoadBalancerArn"])["Attributes"]}
    listeners = elb.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]
    summary = next(d for d in cloudfront.list_distributions()["DistributionList"]["Items"] if d["Comment"].startswith(stack))
    distribution = cloudfront.get_distribution_config(Id=summary["Id"])["DistributionConfig"]
    behaviours = [distribution["DefaultCacheBehavior"], *(distribution.get("CacheBehaviors", {}).get("Items") or [])]
    buckets = [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith(f"{stack}-")]

    def bucket_denies_plain_http(name):
        try:
            statements = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])["Statement"]
        except s3.exceptions.ClientError:
            return False
        return any(st["Effect"] == "Deny" and st.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
                   for st in statements)

    def bucket_blocks_public_access(name):
        try:
            return all(s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"].values())
        except s3.exceptions.ClientError:
            return False

    http_listeners = [lst for lst in listeners if lst["Protocol"] == "HTTP"]
    network_interfaces = template.get("NetworkInterfaces", [])
    flow_logs = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc["VpcId"]]}])["FlowLogs"]
    s3_origins = [o for o in distribution["Origins"]["Items"] if "S3OriginConfig" in o]
    return [
        ("EC2.8", bool(instances) and all(i.get("MetadataOptions", {}).get("HttpTokens") == "required" for i in instances),
         f"{len(instances)} instances, IMDSv2 required on "
         f"{sum(i.get('MetadataOptions', {}).get('HttpTokens') == 'required' for i in instances)}"),
        ("AutoScaling.3", "LaunchConfigurationName" not in group and template.get("MetadataOptions", {}).get("HttpTokens") == "required",
         "launch template (no launch configuration), HttpTokens " + template.get("MetadataOptions", {}).get("HttpTokens", "unset")),
        ("EC2.9", not any(i.get("PublicIpAddress") for i in instances),
         f"public IPv4 on {sum(bool(i.get('PublicIpAddress')) for i in instances)} of {len(instances)} instances"),
        ("EC2.25", not any(n.get("AssociatePublicIpAddress") for n in network_interfaces),
         f"launch template network interfaces: {network_interfaces or 'none (the subnet decides: private)'}"),
        ("EC2.6", bool(flow_logs), f"flow logs of {vpc['VpcId']}: {[f['TrafficType'] for f in flow_logs]}"),
        ("S3.5", bool(buckets) and all(bucket_denies_plain_http(b) for b in buckets),
         f"deny without TLS: {[b for b in buckets if bucket_denies_plain_http(b)]} of {buckets}"),
        ("S3.8", bool(buckets) and all(bucket_blocks_public_access(b) for b in buckets),
         f"public access blocked: {[b for b in buckets if bucket_blocks_public_access(b)]} of {buckets}"),
        ("CloudFront.3", all(b["ViewerProtocolPolicy"] != "allow-all" for b in behaviours),
         f"viewer protocol policies {sorted({b['ViewerProtocolPolicy'] for b in behaviours})}"),
        ("CloudFront.5", bool(distribution.get("Logging", {}).get("Enabled")),
         f"standard logs to {distribution.get('Logging', {}).get('Bucket') or 'nowhere'}"),
        ("CloudFront.6", bool(distribution.get("WebACLId")), f"web ACL {distribution.get('WebACLId') or 'none'}"),
        ("CloudFront.13", bool(s3_origins) and all(o.get("OriginAccessControlId") for o in s3_origins),
         f"S3 origins with OAC: {[o['Id'] for o in s3_origins if o.get('OriginAccessControlId')]}"),
        ("ELB.1", all(lst["DefaultActions"][0]["Type"] == "redirect"
                      and lst["DefaultActions"][0]["RedirectConfig"]["Protocol"] == "HTTPS" for lst in http_listeners),
         f"HTTP listeners' default actions {[lst['DefaultActions'][0]['Type'] for lst in http_listeners]}"),
        ("ELB.4", attributes.get("routing.http.drop_invalid_header_fields.enabled") == "true",
         f"drop_invalid_header_fields {attributes.get('routing.http.drop_invalid_header_fields.enabled')}"),
        ("ELB.5", attributes.get("access_logs.s3.enabled") == "true",
         f"access logs to {attributes.get('access_logs.s3.bucket') or 'nowhere'}"),
        ("ELB.6", attributes.get("deletion_protection.enabled") == "true",
         f"deletion protection {attributes.get('deletion_protection.enabled')}"),
        ("ELB.13", len(alb["AvailabilityZones"]) >= 2, f"AZs {sorted(z['ZoneName'] for z in alb['AvailabilityZones'])}"),
        ("AutoScaling.1", group["HealthCheckType"] == "ELB", f"health check type {group['HealthCheckType']}"),
        ("AutoScaling.2", len(group["AvailabilityZones"]) >= 2, f"AZs {sorted(group['AvailabilityZones'])}"),
    ] + data_tier_controls(emulator, region, stack)


def data_tier_controls(emulator, region: str, stack: str) -> list[tuple[str, bool, str]]:
    """The data tier's controls: RDS, ElastiCache, SQS and SNS (Security Hub controls reference,
    each control's page: what it checks and on which setting)."""
    rds = emulator.client("rds", region)
    db = rds.describe_db_instances(DBInstanceIdentifier=f"{stack}-mysql")["DBInstances"][0]
    elasticache = emulator.client("elasticache", region)
    clusters = [c for c in elasticache.describe_cache_clusters()["CacheClusters"] if c["CacheClusterId"].startswith(stack)]
    groups = [g for g in elasticache.describe_replication_groups().get("ReplicationGroups", [])
              if g["ReplicationGroupId"].startswith(stack)]
    sqs = emulator.client("sqs", region)
    queues = {url.rsplit("/", 1)[1]: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
              for url in sqs.list_queues(QueueNamePrefix=stack).get("QueueUrls", [])}
    sns = emulator.client("sns", region)
    topics = {arn.rsplit(":", 1)[1]: sns.get_topic_attributes(TopicArn=arn)["Attributes"]
              for arn in (t["TopicArn"] for t in sns.list_topics()["Topics"]) if arn.rsplit(":", 1)[1].startswith(stack)}
    # RDS.9 for MySQL: the audit, error, general and slow query logs (AWS Config rule rds-logging-enabled).
    mysql_logs = {"audit", "error", "general", "slowquery"}
    exported = set(db.get("EnabledCloudwatchLogsExports", []))
    return [
        ("RDS.2", db["PubliclyAccessible"] is False, f"PubliclyAccessible {db['PubliclyAccessible']}"),
        ("RDS.3", db["StorageEncrypted"] is True, f"StorageEncrypted {db['StorageEncrypted']}"),
        ("RDS.5", db["MultiAZ"] is True, f"MultiAZ {db['MultiAZ']}"),
        ("RDS.8", db["DeletionProtection"] is True, f"DeletionProtection {db['DeletionProtection']}"),
        ("RDS.9", mysql_logs <= exported, f"log exports {sorted(exported)}, missing {sorted(mysql_logs - exported)}"),
        # RDS.11: automated backups, retention at least the control's default of 7 days.
        ("RDS.11", db["BackupRetentionPeriod"] >= 7, f"BackupRetentionPeriod {db['BackupRetentionPeriod']}"),
        ("RDS.13", db["AutoMinorVersionUpgrade"] is True, f"AutoMinorVersionUpgrade {db['AutoMinorVersionUpgrade']}"),
        # ElastiCache.1: automatic backups (SnapshotRetentionLimit at least 1) of every Redis cluster.
        ("ElastiCache.1", bool(clusters) and all(c.get("SnapshotRetentionLimit", 0) >= 1 for c in clusters),
         f"SnapshotRetentionLimit {[c.get('SnapshotRetentionLimit', 0) for c in clusters]}"),
        ("ElastiCache.3", bool(groups) and all(g.get("AutomaticFailover") == "enabled" for g in groups),
         f"replication groups {[(g['ReplicationGroupId'], g.get('AutomaticFailover')) for g in groups] or 'none'}"),
        ("ElastiCache.4", bool(groups) and all(g.get("AtRestEncryptionEnabled") for g in groups),
         f"at rest {[g.get('AtRestEncryptionEnabled') for g in groups] or 'no replication group'}"),
        ("ElastiCache.5", bool(groups) and all(g.get("TransitEncryptionEnabled") for g in groups),
         f"in transit {[g.get('TransitEncryptionEnabled') for g in groups] or 'no replication group'}"),
        # SQS.1: SSE-SQS or SSE-KMS.
        ("SQS.1", bool(queues) and all(a.get("KmsMasterKeyId") or a.get("SqsManagedSseEnabled") == "true"
                                       for a in queues.values()),
         f"{ {name: a.get('KmsMasterKeyId') or ('SSE-SQS' if a.get('SqsManagedSseEnabled') == 'true' else None) for name, a in queues.items()} }"),
        # SNS.1: a KMS key on every topic.
        ("SNS.1", bool(topics) and all(a.get("KmsMasterKeyId") for a in topics.values()),
         f"{ {name: a.get('KmsMasterKeyId') for name, a in topics.items()} }"),
    ]



def table(rows: list[tuple[str, bool, str]]) -> str:
    """The controls as a Markdown table."""
    lines = ["| control | holds | evidence |", "|---|---|---|"]
    lines += [f"| {control} | {'yes' if holds else 'NO'} | {evidence} |" for control, holds, evidence in rows]
    return "\n".join(lines)
