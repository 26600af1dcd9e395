"""What a stack leaves behind that AWS bills for."""


def billable_resources(emulator, region):
    """Map of kind -> IDs of every billable resource left in the region (empty when clean)."""
    ec2 = emulator.client("ec2", region)
    found = {
        "instances": [i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]
                      if i["State"]["Name"] not in ("terminated", "shutting-down")],
        "nat_gateways": [n["NatGatewayId"] for n in ec2.describe_nat_gateways()["NatGateways"]
                         if n["State"] not in ("deleted", "deleting")],
        "elastic_ips": [a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]],
        "vpc_endpoints": [e["VpcEndpointId"] for e in ec2.describe_vpc_endpoints()["VpcEndpoints"]
                          if e["State"] not in ("deleted", "deleting")],
        "load_balancers": [lb["LoadBalancerName"] for lb in emulator.client("elbv2", region).describe_load_balancers()["LoadBalancers"]],
        "db_instances": [d["DBInstanceIdentifier"] for d in emulator.client("rds", region).describe_db_instances()["DBInstances"]],
        "cache_clusters": [c["CacheClusterId"] for c in emulator.client("elasticache", region).describe_cache_clusters()["CacheClusters"]],
        "distributions": [d["Id"] for d in emulator.client("cloudfront", region).list_distributions()["DistributionList"].get("Items", [])],
        "buckets": [b["Name"] for b in emulator.client("s3", region).list_buckets()["Buckets"]],
        "auto_scaling_groups": [g["AutoScalingGroupName"] for g in
                                emulator.client("autoscaling", region).describe_auto_scaling_groups()["AutoScalingGroups"]],
        "alarms": [a["AlarmName"] for a in emulator.client("cloudwatch", region).describe_alarms()["MetricAlarms"]],
        "dashboards": [d["DashboardName"] for d in emulator.client("cloudwatch", region).list_dashboards()["DashboardEntries"]],
        "queues": emulator.client("sqs", region).list_queues().get("QueueUrls", []),
        # A customer managed key costs a month's fee until it is deleted (AWS KMS pricing); one
        # pending deletion is on its way out (KMS's waiting period is 7 days at least).
        "kms_keys": [key["KeyId"] for key in _customer_keys(emulator.client("kms", region))
                     if key["KeyState"] not in ("PendingDeletion", "PendingReplicaDeletion")],
        # Budgets are not billed each (AWS Budgets pricing: budgets without actions), but one left
        # behind would alert about a stack that is gone.
        "budgets": [b["BudgetName"] for b in emulator.client("budgets", "us-east-1").describe_budgets(
            AccountId="123456789012").get("Budgets", [])],
        # A CloudFront web ACL lives in us-east-1 whatever the stack's region.
        "web_acls": [a["Name"] for a in emulator.client("wafv2", "us-east-1").list_web_acls(Scope="CLOUDFRONT")["WebACLs"]],
    }
    return {kind: ids for kind, ids in found.items() if ids}


def _customer_keys(kms):
    """Customer managed keys (AWS managed ones, aws/<service>, are AWS's and not billed per key)."""
    keys = (kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"] for k in kms.list_keys()["Keys"])
    return [key for key in keys if key.get("KeyManager") == "CUSTOMER"]


def stack_inventory(emulator, region, stack):
    """Count of each kind of resource the stack owns (by its Stack tag, or its VPC), to prove
    that nothing was made twice: a duplicate shows as a count above the inventory's plan."""
    ec2 = emulator.client("ec2", region)
    tagged = [{"Name": "tag:Stack", "Values": [stack]}]
    vpcs = [v["VpcId"] for v in ec2.describe_vpcs(Filters=tagged)["Vpcs"]]
    in_vpc = [{"Name": "vpc-id", "Values": vpcs}]
    elb = emulator.client("elbv2", region)
    balancers = [lb for lb in elb.describe_load_balancers()["LoadBalancers"] if lb["LoadBalancerName"].startswith(stack)]
    groups = [tg for tg in elb.describe_target_groups()["TargetGroups"] if tg["TargetGroupName"].startswith(stack)]
    counts = {
        "vpcs": len(vpcs),
        "subnets": len(ec2.describe_subnets(Filters=in_vpc)["Subnets"]) if vpcs else 0,
        "internet_gateways": len(ec2.describe_internet_gateways(Filters=tagged)["InternetGateways"]),
        "nat_gateways": len([n for n in ec2.describe_nat_gateways(Filter=in_vpc)["NatGateways"]
                             if n["State"] not in ("deleted", "deleting", "failed")]) if vpcs else 0,
        "elastic_ips": len(ec2.describe_addresses()["Addresses"]),  # the NAT module does not tag its EIPs
        "route_tables": len([t for t in ec2.describe_route_tables(Filters=in_vpc)["RouteTables"]
                             if not any(a.get("Main") for a in t.get("Associations", []))]) if vpcs else 0,
        "security_groups": len([g for g in ec2.describe_security_groups(Filters=in_vpc)["SecurityGroups"]
                                if g["GroupName"] != "default"]) if vpcs else 0,
        "vpc_endpoints": len([e for e in ec2.describe_vpc_endpoints(Filters=in_vpc)["VpcEndpoints"]
                              if e["State"] not in ("deleted", "deleting")]) if vpcs else 0,
        "flow_logs": len(ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": vpcs}])["FlowLogs"]) if vpcs else 0,
        "launch_templates": len(ec2.describe_launch_templates(Filters=tagged)["LaunchTemplates"]),
        "load_balancers": len(balancers),
        "target_groups": len(groups),
        "db_instances": len([d for d in emulator.client("rds", region).describe_db_instances()["DBInstances"]
                             if d["DBInstanceIdentifier"].startswith(stack)]),
        "cache_clusters": len([c for c in emulator.client("elasticache", region).describe_cache_clusters()["CacheClusters"]
                               if c["CacheClusterId"].startswith(stack)]),
        "distributions": len(emulator.client("cloudfront", region).list_distributions()["DistributionList"].get("Items", [])),
        "auto_scaling_groups": len([g for g in emulator.client("autoscaling", region).describe_auto_scaling_groups()[
            "AutoScalingGroups"] if g["AutoScalingGroupName"].startswith(stack)]),
        "queues": len(emulator.client("sqs", region).list_queues(QueueNamePrefix=stack).get("QueueUrls", [])),
        "kms_keys": len([a for a in emulator.client("kms", region).list_aliases()["Aliases"]
                         if a["AliasName"].startswith(f"alias/{stack}-")]),
        "budgets": len([b for b in emulator.client("budgets", "us-east-1").describe_budgets(
            AccountId="123456789012").get("Budgets", []) if b["BudgetName"].startswith(f"{stack}-")]),
    }
    return counts
