"""The emulator's realistic mode (tools/emulator/realism.py and services/): every behaviour
through the server, as the toolkit meets it. Latencies run at 1/100 of AWS time, so a 15-minute
RDS Multi-AZ create takes 9 s here; the tests watch the states a client sees, not the clock."""

import sys
import time
from pathlib import Path

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tools/emulator"))

import realism  # noqa: E402
from helpers import Emulator, free_port  # noqa: E402

SCALE = 0.01
NO_RETRY = Config(retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture(scope="module")
def slow(tmp_path_factory):
    """AWS at a hundredth of its real pace, no faults."""
    emu = Emulator(port=free_port(), state_dir=tmp_path_factory.mktemp("slow"), options=("--latency-scale", str(SCALE)))
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    """Instant, but throttled by EC2's token buckets and losing 99 % of the idempotent creates' answers."""
    emu = Emulator(port=free_port(), state_dir=tmp_path_factory.mktemp("faulty"),
                   options=("--throttle", "--lost-responses", "0.99", "--seed", "1"))
    emu.start()
    yield emu
    emu.stop()


def watch(read, until, timeout=30.0):
    """The distinct values ``read()`` returns, in order, until one is ``until``."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = read()
        if not seen or seen[-1] != value:
            seen.append(value)
        if value == until:
            return seen
        time.sleep(0.05)
    raise AssertionError(f"never reached {until!r}; saw {seen}")


def network(emu, cidr="10.7.0.0/16"):
    ec2 = emu.client("ec2")
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    base = cidr.split(".")
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"{base[0]}.{base[1]}.{i}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
               for i, zone in enumerate(["us-east-1a", "us-east-1b"])]
    return ec2, vpc, subnets


# --------------------------------------------------------------------------- settings
@pytest.mark.parametrize(("settings", "message"), [
    (realism.Settings(latency_scale=-1), "latency scale must be 0 (instant) or more, got -1"),
    (realism.Settings(lost_responses=1.0), "lost responses must be a fraction in [0, 1), got 1.0"),
    (realism.Settings(throttle_fraction=2), "throttle fraction must be a fraction in [0, 1), got 2"),
])
def test_bad_settings_are_named(settings, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        settings.validate()


def test_settings_from_the_environment():
    settings = realism.Settings.from_env({"AWSEMU_LATENCY_SCALE": "0.2", "AWSEMU_THROTTLE": "1",
                                          "AWSEMU_LOST_RESPONSES": "0.1", "AWSEMU_SEED": "3"})
    assert settings == realism.Settings(0.2, True, 0.0, 0.1, 3)


def test_token_bucket_follows_ec2s_sizes():
    bucket = realism.TokenBucket(*realism.EC2_BUCKETS["non-mutating"])
    start = bucket.stamp
    assert sum(bucket.take(start) for _ in range(150)) == 100  # the burst
    assert not bucket.take(start)
    assert sum(bucket.take(start + 1.0) for _ in range(30)) == 20  # one second's refill
    assert realism.Throttle.ec2_category("DescribeVpcs") == "non-mutating"
    assert realism.Throttle.ec2_category("CreateVpc") == "mutating"
    assert realism.Throttle.ec2_category("RunInstances") == "resource-intensive"


# --------------------------------------------------------------------------- lifecycles
def test_rds_create_passes_creating_and_backing_up_with_no_endpoint_until_available(slow):
    ec2, _, subnets = network(slow, "10.21.0.0/16")
    rds = slow.client("rds")
    rds.create_db_subnet_group(DBSubnetGroupName="life", DBSubnetGroupDescription="d", SubnetIds=subnets)
    rds.create_db_instance(DBInstanceIdentifier="life", Engine="mysql", DBInstanceClass="db.t4g.micro",
                           MasterUsername="admin", MasterUserPassword="password123", AllocatedStorage=20,
                           DBSubnetGroupName="life")
    endpoints = {}

    def status():
        instance = rds.describe_db_instances(DBInstanceIdentifier="life")["DBInstances"][0]
        endpoints[instance["DBInstanceStatus"]] = "Endpoint" in instance
        return instance["DBInstanceStatus"]

    assert watch(status, "available") == ["creating", "backing-up", "available"]
    assert endpoints == {"creating": False, "backing-up": False, "available": True}

    rds.modify_db_instance(DBInstanceIdentifier="life", DBInstanceClass="db.t4g.small", ApplyImmediately=True)
    with pytest.raises(ClientError, match="InvalidDBInstanceState"):
        rds.modify_db_instance(DBInstanceIdentifier="life", AllocatedStorage=30, ApplyImmediately=True)
    assert watch(status, "available") == ["modifying", "available"]

    rds.delete_db_instance(DBInstanceIdentifier="life", FinalDBSnapshotIdentifier="life-final")
    manual = lambda: [s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]]  # noqa: E731
    assert manual() == []  # the final snapshot comes at the end
    with pytest.raises(ClientError, match="InvalidDBSubnetGroupStateFault"):
        rds.delete_db_subnet_group(DBSubnetGroupName="life")
    with pytest.raises(ClientError, match="DependencyViolation"):
        ec2.delete_subnet(SubnetId=subnets[0])

    def gone():
        found = rds.describe_db_instances(Filters=[{"Name": "db-instance-id", "Values": ["life"]}])["DBInstances"]
        return found[0]["DBInstanceStatus"] if found else "gone"

    assert watch(gone, "gone") == ["deleting", "gone"]
    assert manual() == ["life-final"]
    rds.delete_db_subnet_group(DBSubnetGroupName="life")


def test_multi_az_takes_longer_than_single_az(slow):
    _, _, subnets = network(slow, "10.22.0.0/16")
    rds = slow.client("rds")
    rds.create_db_subnet_group(DBSubnetGroupName="ha", DBSubnetGroupDescription="d", SubnetIds=subnets)
    started = {}
    for name, multi_az in (("single", False), ("multi", True)):
        started[name] = time.monotonic()
        rds.create_db_instance(DBInstanceIdentifier=name, Engine="mysql", DBInstanceClass="db.t4g.micro",
                               MasterUsername="admin", MasterUserPassword="password123", AllocatedStorage=20,
                               DBSubnetGroupName="ha", MultiAZ=multi_az)
    took = {}
    for name in ("single", "multi"):
        watch(lambda n=name: rds.describe_db_instances(DBInstanceIdentifier=n)["DBInstances"][0]["DBInstanceStatus"],
              "available")
        took[name] = time.monotonic() - started[name]
    assert took["multi"] > took["single"] * 1.5


def test_nat_gateway_pending_then_available_deleting_then_deleted(slow):
    ec2, vpc, subnets = network(slow, "10.23.0.0/16")
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnets[0], AllocationId=allocation)["NatGateway"]["NatGatewayId"]
    state = lambda: ec2.describe_nat_gateways(Filters=[{"Name": "nat-gateway-id", "Values": [nat]}])["NatGateways"][0]["State"]  # noqa: E731
    assert watch(state, "available") == ["pending", "available"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    with pytest.raises(ClientError, match="DependencyViolation.*mapped public address"):
        ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    with pytest.raises(ClientError, match="InvalidIPAddress.InUse"):
        ec2.release_address(AllocationId=allocation)
    ec2.delete_nat_gateway(NatGatewayId=nat)
    with pytest.raises(ClientError, match="DependencyViolation"):
        ec2.delete_subnet(SubnetId=subnets[0])  # its interface stays while it is deleting
    assert watch(state, "deleted") == ["deleting", "deleted"]
    ec2.release_address(AllocationId=allocation)
    ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    ec2.delete_subnet(SubnetId=subnets[0])


def test_alb_provisioning_then_active_and_new_targets_initial(slow):
    ec2, vpc, subnets = network(slow, "10.24.0.0/16")
    elb = slow.client("elbv2")
    arn = elb.create_load_balancer(Name="life", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    state = lambda: elb.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]["State"]["Code"]  # noqa: E731
    assert watch(state, "active") == ["provisioning", "active"]

    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnets[0])["Instances"][0]
    assert instance["State"]["Name"] == "pending"
    group = elb.create_target_group(Name="life", Protocol="HTTP", Port=80, VpcId=vpc,
                                    HealthCheckIntervalSeconds=60)["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=group, Targets=[{"Id": instance["InstanceId"]}])  # pending is accepted
    health = lambda: elb.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"][0]["TargetHealth"]["State"]  # noqa: E731
    assert watch(health, "healthy") == ["initial", "healthy"]
    by_id = [{"Name": "instance-id", "Values": [instance["InstanceId"]]}]
    assert ec2.describe_instances(Filters=by_id)["Reservations"][0]["Instances"][0]["State"]["Name"] == "running"


def test_cloudfront_in_progress_then_deployed(slow):
    cloudfront = slow.client("cloudfront")
    config = {
        "CallerReference": "life", "Comment": "", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "example.com",
                                              "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443,
                                                                     "OriginProtocolPolicy": "https-only"}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all",
                                 "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"},
    }
    distribution = cloudfront.create_distribution(DistributionConfig=config)["Distribution"]["Id"]
    status = lambda: cloudfront.get_distribution(Id=distribution)["Distribution"]["Status"]  # noqa: E731
    assert watch(status, "Deployed") == ["InProgress", "Deployed"]


def test_cache_cluster_has_no_endpoint_while_creating_and_lingers_while_deleting(slow):
    ec2, _, subnets = network(slow, "10.25.0.0/16")
    cache = slow.client("elasticache")
    cache.create_cache_subnet_group(CacheSubnetGroupName="life", CacheSubnetGroupDescription="d", SubnetIds=subnets)
    cache.create_cache_cluster(CacheClusterId="life", Engine="redis", CacheNodeType="cache.t4g.micro",
                               NumCacheNodes=1, CacheSubnetGroupName="life")
    endpoints = {}

    def status():
        found = cache.describe_cache_clusters(ShowCacheNodeInfo=True)["CacheClusters"]
        found = [c for c in found if c["CacheClusterId"] == "life"]
        if not found:
            return "gone"
        endpoints[found[0]["CacheClusterStatus"]] = "Endpoint" in found[0]["CacheNodes"][0]
        return found[0]["CacheClusterStatus"]

    assert watch(status, "available") == ["creating", "available"]
    assert endpoints == {"creating": False, "available": True}
    cache.delete_cache_cluster(CacheClusterId="life")
    with pytest.raises(ClientError, match="CacheSubnetGroupInUse"):
        cache.delete_cache_subnet_group(CacheSubnetGroupName="life")
    assert watch(status, "gone") == ["deleting", "gone"]
    cache.delete_cache_subnet_group(CacheSubnetGroupName="life")



def test_replication_group_creates_fails_over_and_deletes_as_elasticache_does(slow):
    _, _, subnets = network(slow, "10.26.0.0/16")
    cache = slow.client("elasticache")
    cache.create_cache_subnet_group(CacheSubnetGroupName="group", CacheSubnetGroupDescription="d", SubnetIds=subnets)
    base = {"ReplicationGroupId": "group", "ReplicationGroupDescription": "d", "CacheNodeType": "cache.t4g.micro",
            "Engine": "redis", "EngineVersion": "7.1", "CacheSubnetGroupName": "group"}
    # What ElastiCache refuses: failover without a replica, Multi-AZ without failover, AUTH without TLS.
    for extra, message in [
        ({"NumCacheClusters": 1, "AutomaticFailoverEnabled": True}, "Automatic failover needs at least 2 cache clusters"),
        ({"NumCacheClusters": 2, "MultiAZEnabled": True}, "Multi-AZ requires automatic failover to be enabled"),
        ({"NumCacheClusters": 2, "AuthToken": "a-token-of-20-chars!"},
         "The AUTH token is only supported when encryption-in-transit is enabled"),
    ]:
        with pytest.raises(ClientError, match=message):
            cache.create_replication_group(**base, **extra)
    cache.create_replication_group(**base, NumCacheClusters=2, AutomaticFailoverEnabled=True, MultiAZEnabled=True,
                                   TransitEncryptionEnabled=True, AuthToken="a-token-of-20-chars!",
                                   PreferredCacheClusterAZs=["us-east-1a", "us-east-1b"])
    seen = {}

    def status():
        found = cache.describe_replication_groups()["ReplicationGroups"]
        if not found:
            return "gone"
        node_group = found[0]["NodeGroups"][0]
        seen[found[0]["Status"]] = ("PrimaryEndpoint" in node_group,
                                    tuple(m["CurrentRole"] for m in node_group["NodeGroupMembers"]))
        return found[0]["Status"]

    assert watch(status, "available") == ["creating", "available"]
    assert seen == {"creating": (False, ("primary", "replica")), "available": (True, ("primary", "replica"))}
    members = {c["CacheClusterId"]: c for c in cache.describe_cache_clusters()["CacheClusters"]}
    assert sorted(members) == ["group-001", "group-002"] and {m["ReplicationGroupId"] for m in members.values()} == {"group"}

    # A failover: the replica becomes the primary, the endpoint names stay.
    endpoint = cache.describe_replication_groups()["ReplicationGroups"][0]["NodeGroups"][0]["PrimaryEndpoint"]
    cache.test_failover(ReplicationGroupId="group", NodeGroupId="0001")
    with pytest.raises(ClientError, match="InvalidReplicationGroupState"):
        cache.modify_replication_group(ReplicationGroupId="group", SnapshotRetentionLimit=3, ApplyImmediately=True)
    assert watch(status, "available") == ["modifying", "available"]
    after = cache.describe_replication_groups()["ReplicationGroups"][0]["NodeGroups"][0]
    assert [m["CurrentRole"] for m in after["NodeGroupMembers"]] == ["replica", "primary"]
    assert after["PrimaryEndpoint"] == endpoint
    with pytest.raises(ClientError, match="NodeGroupNotFoundFault"):
        cache.test_failover(ReplicationGroupId="group", NodeGroupId="0002")

    cache.delete_replication_group(ReplicationGroupId="group")
    with pytest.raises(ClientError, match="CacheSubnetGroupInUse"):
        cache.delete_cache_subnet_group(CacheSubnetGroupName="group")
    assert watch(status, "gone") == ["deleting", "gone"]
    assert cache.describe_cache_clusters()["CacheClusters"] == []
    cache.delete_cache_subnet_group(CacheSubnetGroupName="group")

def test_image_pending_then_available(slow):
    ec2, _, subnets = network(slow, "10.26.0.0/16")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnets[0])["Instances"][0]["InstanceId"]
    baked = ec2.create_image(InstanceId=instance, Name="life")["ImageId"]
    state = lambda: ec2.describe_images(ImageIds=[baked])["Images"][0]["State"]  # noqa: E731
    assert watch(state, "available") == ["pending", "available"]


# --------------------------------------------------------------------------- eventual consistency
def test_a_new_vpc_is_not_found_by_id_for_a_moment(slow):
    ec2 = slow.client("ec2", )
    vpc = ec2.create_vpc(CidrBlock="10.27.0.0/16")["Vpc"]["VpcId"]
    with pytest.raises(ClientError, match="InvalidVpcID.NotFound"):
        ec2.describe_vpcs(VpcIds=[vpc])
    time.sleep(realism.CONSISTENCY_FLOOR + 0.2)
    assert ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["VpcId"] == vpc


def test_a_new_instance_profile_is_not_usable_by_ec2_for_a_moment(slow):
    ec2, _, subnets = network(slow, "10.28.0.0/16")
    # The image first: listing Amazon's images is slow on a loaded machine, and the launch below
    # must come within the profile's few seconds of invisibility.
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    launch = dict(ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnets[0], IamInstanceProfile={"Name": "life"})
    iam = slow.client("iam")
    iam.create_role(RoleName="life", AssumeRolePolicyDocument="{}")
    iam.create_instance_profile(InstanceProfileName="life")
    iam.add_role_to_instance_profile(InstanceProfileName="life", RoleName="life")
    with pytest.raises(ClientError, match="Invalid IAM Instance Profile name"):
        ec2.run_instances(**launch)
    time.sleep(realism.CONSISTENCY_FLOOR + 0.2)
    assert ec2.run_instances(**launch)["Instances"][0]["IamInstanceProfile"]["Arn"].endswith("/life")


# --------------------------------------------------------------------------- dependencies
def test_security_group_in_use_is_not_deleted(faulty):
    ec2, vpc, subnets = network(faulty, "10.31.0.0/16")
    web = ec2.create_security_group(GroupName="web", Description="w", VpcId=vpc)["GroupId"]
    db = ec2.create_security_group(GroupName="db", Description="d", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=db, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "UserIdGroupPairs": [{"GroupId": web}]}])
    with pytest.raises(ClientError, match=f"DependencyViolation.*resource {web} has a dependent object"):
        ec2.delete_security_group(GroupId=web)  # referenced by the db group's rule
    with pytest.raises(ClientError, match="DependencyViolation.*has dependencies"):
        ec2.delete_vpc(VpcId=vpc)
    rds = faulty.client("rds")
    rds.create_db_subnet_group(DBSubnetGroupName="dep", DBSubnetGroupDescription="d", SubnetIds=subnets)
    rds.create_db_instance(DBInstanceIdentifier="dep", Engine="mysql", DBInstanceClass="db.t4g.micro",
                           MasterUsername="admin", MasterUserPassword="password123", AllocatedStorage=20,
                           DBSubnetGroupName="dep", VpcSecurityGroupIds=[db])
    ec2.revoke_security_group_ingress(GroupId=db, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "UserIdGroupPairs": [{"GroupId": web}]}])
    ec2.delete_security_group(GroupId=web)
    with pytest.raises(ClientError, match="DependencyViolation"):
        ec2.delete_security_group(GroupId=db)  # the database uses it
    rds.delete_db_instance(DBInstanceIdentifier="dep", SkipFinalSnapshot=True)
    ec2.delete_security_group(GroupId=db)


def test_group_instances_carry_their_launch_template(faulty):
    ec2, _, subnets = network(faulty, "10.32.0.0/16")
    iam = faulty.client("iam")
    iam.create_role(RoleName="carry", AssumeRolePolicyDocument="{}")
    profile = iam.create_instance_profile(InstanceProfileName="carry")["InstanceProfile"]["Arn"]
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ec2.create_launch_template(LaunchTemplateName="carry", LaunchTemplateData={
        "ImageId": image, "InstanceType": "t3.micro", "IamInstanceProfile": {"Arn": profile},
        "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 1, "HttpEndpoint": "enabled"},
        "Monitoring": {"Enabled": True}})
    faulty.client("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName="carry", MinSize=1, MaxSize=1, DesiredCapacity=1,
        LaunchTemplate={"LaunchTemplateName": "carry", "Version": "$Latest"}, VPCZoneIdentifier=",".join(subnets))
    instance = ec2.describe_instances(Filters=[{"Name": "tag:aws:autoscaling:groupName", "Values": ["carry"]}])[
        "Reservations"][0]["Instances"][0]
    assert instance["MetadataOptions"]["HttpTokens"] == "required"
    assert instance["IamInstanceProfile"]["Arn"] == profile
    assert instance["Monitoring"]["State"] == "enabled"


# --------------------------------------------------------------------------- throttling, lost answers
def test_ec2_describe_calls_past_the_bucket_are_throttled(faulty):
    client = faulty_client(faulty, "ec2")
    answers = []
    for _ in range(160):
        try:
            client.describe_availability_zones()
            answers.append("ok")
        except ClientError as error:
            answers.append(error.response["Error"]["Code"])
    assert answers[:90] == ["ok"] * 90
    assert "RequestLimitExceeded" in answers
    assert faulty.stats()["realism"]["throttled"] >= 1


def faulty_client(emu, service):
    import boto3

    return boto3.client(service, endpoint_url=emu.url, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing", config=NO_RETRY)


def test_a_lost_answer_retried_with_its_token_makes_no_duplicate(faulty):
    ec2, _, subnets = network(faulty, "10.33.0.0/16")
    time.sleep(1)  # a fresh bucket for the creates below
    before = faulty.stats()["realism"]
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnets[0], AllocationId=allocation, ClientToken="one-token")["NatGateway"]
    after = faulty.stats()["realism"]
    assert after["lost"] > before["lost"] and after["replayed"] > before["replayed"]
    gateways = ec2.describe_nat_gateways(Filters=[{"Name": "subnet-id", "Values": [subnets[0]]}])["NatGateways"]
    assert [g["NatGatewayId"] for g in gateways] == [nat["NatGatewayId"]]


def test_a_lost_answer_retried_without_a_token_makes_a_duplicate(faulty):
    ec2, vpc, _ = network(faulty, "10.34.0.0/16")
    # CreateVpcEndpoint's ClientToken is not an idempotency token in botocore's model: with no
    # token, each of botocore's retries of a lost answer is one more endpoint, as it would be on AWS.
    lost_before = faulty.stats()["realism"]["lost"]
    try:
        ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.dynamodb")
        answered = 1
    except ClientError as error:
        assert error.response["Error"]["Code"] == "InternalError"
        answered = 0
    lost = faulty.stats()["realism"]["lost"] - lost_before
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["VpcEndpoints"]
    assert lost >= 1
    assert len(endpoints) == lost + answered >= 2  # every retry made one more


def test_a_second_gateway_endpoint_on_a_routed_table_is_refused(faulty):
    ec2, vpc, _ = network(faulty, "10.35.0.0/16")
    table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"][0]["RouteTableId"]
    once = faulty_client(faulty, "ec2")
    try:  # its answer is most likely lost: the endpoint is made all the same
        once.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3", RouteTableIds=[table])
    except ClientError as error:
        assert error.response["Error"]["Code"] == "InternalError"
    with pytest.raises(ClientError, match=f"RouteAlreadyExists.*route table {table} already has a route"):
        once.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3", RouteTableIds=[table])
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["VpcEndpoints"]
    assert len(endpoints) == 1
