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
    }
    return {kind: ids for kind, ids in found.items() if ids}
