"""The emulator's instance refresh (tools/emulator/services/autoscaling.py), in process with moto: no
fleet, so targets answer moto's 'healthy' and the refresh runs in well under a second a batch."""

import sys
import time
from pathlib import Path

import boto3
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tools/emulator"))

moto = pytest.importorskip("moto")


@pytest.fixture(scope="module", autouse=True)
def extended():
    from services import autoscaling

    autoscaling.install()


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with moto.mock_aws():
        yield lambda service: boto3.client(service, region_name="us-east-1")


@pytest.fixture
def group(aws):
    """Three instances over two AZs behind a target group without draining delay."""
    ec2, asg, elb = aws("ec2"), aws("autoscaling"), aws("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=z)["Subnet"]["SubnetId"]
               for i, z in enumerate(["us-east-1a", "us-east-1b"])]
    images = [i["ImageId"] for i in ec2.describe_images(Owners=["amazon"])["Images"][:2]]
    ec2.create_launch_template(LaunchTemplateName="web", LaunchTemplateData={"ImageId": images[0], "InstanceType": "t3.micro"})
    ec2.create_launch_template_version(LaunchTemplateName="web", LaunchTemplateData={"ImageId": images[1], "InstanceType": "t3.micro"})
    tg = elb.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
    elb.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "0"}])
    asg.create_auto_scaling_group(AutoScalingGroupName="web", MinSize=2, MaxSize=6, DesiredCapacity=3,
                                  LaunchTemplate={"LaunchTemplateName": "web", "Version": "1"},
                                  VPCZoneIdentifier=",".join(subnets), TargetGroupARNs=[tg], HealthCheckType="ELB")
    return {"asg": asg, "ec2": ec2, "elb": elb, "tg": tg, "images": images, "cloudwatch": aws("cloudwatch")}


def wait(asg, refresh_id, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = asg.describe_instance_refreshes(AutoScalingGroupName="web", InstanceRefreshIds=[refresh_id])
        refresh = found["InstanceRefreshes"][0]
        if refresh["Status"] not in ("Pending", "InProgress", "Cancelling", "RollbackInProgress"):
            return refresh
        time.sleep(0.1)
    raise AssertionError(f"refresh still {refresh['Status']}")


def instances(group):
    return group["asg"].describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]["Instances"]


def start(group, **preferences):
    return group["asg"].start_instance_refresh(
        AutoScalingGroupName="web", DesiredConfiguration={"LaunchTemplate": {"LaunchTemplateName": "web", "Version": "2"}},
        Preferences={"MinHealthyPercentage": 66, "InstanceWarmup": 0, "SkipMatching": True, **preferences},
    )["InstanceRefreshId"]


def test_launches_spread_over_the_zones_with_their_template_version(group):
    found = instances(group)
    assert sorted(i["AvailabilityZone"] for i in found) in (["us-east-1a", "us-east-1a", "us-east-1b"],
                                                            ["us-east-1a", "us-east-1b", "us-east-1b"])
    assert {i["LaunchTemplate"]["Version"] for i in found} == {"1"}


def test_refresh_replaces_every_instance_and_the_group_takes_the_version(group):
    before = {i["InstanceId"] for i in instances(group)}
    refresh = wait(group["asg"], start(group))
    assert refresh["Status"] == "Successful" and refresh["PercentageComplete"] == 100
    assert refresh["InstancesToUpdate"] == 0
    after = instances(group)
    assert len(after) == 3 and not before & {i["InstanceId"] for i in after}
    assert {i["LaunchTemplate"]["Version"] for i in after} == {"2"}
    described = group["ec2"].describe_instances(InstanceIds=[i["InstanceId"] for i in after])["Reservations"]
    assert {i["ImageId"] for r in described for i in r["Instances"]} == {group["images"][1]}
    group_now = group["asg"].describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]
    assert group_now["LaunchTemplate"]["Version"] == "2"
    registered = group["elb"].describe_target_health(TargetGroupArn=group["tg"])["TargetHealthDescriptions"]
    assert {d["Target"]["Id"] for d in registered} == {i["InstanceId"] for i in after}


def test_skip_matching_leaves_instances_already_on_the_version(group):
    wait(group["asg"], start(group))
    same = {i["InstanceId"] for i in instances(group)}
    refresh = wait(group["asg"], start(group))
    assert refresh["Status"] == "Successful" and {i["InstanceId"] for i in instances(group)} == same


def test_a_second_refresh_is_refused_while_one_runs(group):
    start(group, CheckpointPercentages=[33, 100], CheckpointDelay=30)
    with pytest.raises(group["asg"].exceptions.ClientError, match="InstanceRefreshInProgress"):
        start(group)


def test_alarm_fails_the_refresh_and_auto_rollback_restores_the_old_version(group):
    cloudwatch = group["cloudwatch"]
    cloudwatch.put_metric_alarm(AlarmName="web-5xx", MetricName="HTTPCode_Target_5XX_Count", Namespace="AWS/ApplicationELB",
                                Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
                                ComparisonOperator="GreaterThanOrEqualToThreshold")
    refresh_id = start(group, AutoRollback=True, AlarmSpecification={"Alarms": ["web-5xx"]},
                       CheckpointPercentages=[33, 100], CheckpointDelay=30)
    time.sleep(0.5)
    cloudwatch.set_alarm_state(AlarmName="web-5xx", StateValue="ALARM", StateReason="test")
    refresh = wait(group["asg"], refresh_id)
    assert refresh["Status"] == "RollbackSuccessful"
    assert "web-5xx" in refresh["RollbackDetails"]["RollbackReason"]
    assert {i["LaunchTemplate"]["Version"] for i in instances(group)} == {"1"}
    group_now = group["asg"].describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]
    assert group_now["LaunchTemplate"]["Version"] == "1"


def test_cancel_keeps_what_was_replaced_and_the_group_version(group):
    refresh_id = start(group, CheckpointPercentages=[33, 100], CheckpointDelay=30)
    deadline = time.monotonic() + 10
    while group["asg"].describe_instance_refreshes(AutoScalingGroupName="web")["InstanceRefreshes"][0]["PercentageComplete"] < 33:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    group["asg"].cancel_instance_refresh(AutoScalingGroupName="web")
    refresh = wait(group["asg"], refresh_id)
    assert refresh["Status"] == "Cancelled"
    versions = sorted(i["LaunchTemplate"]["Version"] for i in instances(group))
    assert versions == ["1", "1", "2"]
    group_now = group["asg"].describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][0]
    assert group_now["LaunchTemplate"]["Version"] == "1"


def test_rollback_without_an_active_refresh_is_refused(group):
    with pytest.raises(group["asg"].exceptions.ClientError, match="ActiveInstanceRefreshNotFound"):
        group["asg"].rollback_instance_refresh(AutoScalingGroupName="web")


def test_standby_leaves_the_target_group_and_comes_back(group):
    instance = instances(group)[0]["InstanceId"]
    group["asg"].enter_standby(AutoScalingGroupName="web", InstanceIds=[instance], ShouldDecrementDesiredCapacity=True)
    registered = {d["Target"]["Id"] for d in group["elb"].describe_target_health(TargetGroupArn=group["tg"])["TargetHealthDescriptions"]}
    assert instance not in registered and len(registered) == 2
    group["asg"].exit_standby(AutoScalingGroupName="web", InstanceIds=[instance])
    registered = {d["Target"]["Id"] for d in group["elb"].describe_target_health(TargetGroupArn=group["tg"])["TargetHealthDescriptions"]}
    assert instance in registered and len(registered) == 3


def test_rollback_of_a_launch_first_batch_ends_at_the_desired_capacity(group):
    cloudwatch = group["cloudwatch"]
    cloudwatch.put_metric_alarm(AlarmName="web-5xx", MetricName="HTTPCode_Target_5XX_Count", Namespace="AWS/ApplicationELB",
                                Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
                                ComparisonOperator="GreaterThanOrEqualToThreshold")
    # Launch first (one extra instance), with a long warm-up: the alarm rings while the new one warms up.
    refresh_id = start(group, MinHealthyPercentage=100, MaxHealthyPercentage=150, InstanceWarmup=30, AutoRollback=True,
                       AlarmSpecification={"Alarms": ["web-5xx"]})
    deadline = time.monotonic() + 10
    while len(instances(group)) < 4:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    cloudwatch.set_alarm_state(AlarmName="web-5xx", StateValue="ALARM", StateReason="test")
    assert wait(group["asg"], refresh_id)["Status"] == "RollbackSuccessful"
    found = instances(group)
    assert len(found) == 3 and {i["LaunchTemplate"]["Version"] for i in found} == {"1"}


def test_default_instance_warmup_is_kept_and_removed_with_minus_one(group):
    asg = group["asg"]

    def warmup():
        return asg.describe_auto_scaling_groups(AutoScalingGroupNames=["web"])["AutoScalingGroups"][0].get(
            "DefaultInstanceWarmup")

    assert warmup() is None
    asg.update_auto_scaling_group(AutoScalingGroupName="web", DefaultInstanceWarmup=120)
    assert warmup() == 120
    asg.update_auto_scaling_group(AutoScalingGroupName="web", MaxSize=7)
    assert warmup() == 120
    asg.update_auto_scaling_group(AutoScalingGroupName="web", DefaultInstanceWarmup=-1)
    assert warmup() is None


def test_only_a_default_instance_warmup_keeps_instances_out_of_the_aggregate(group):
    from moto.autoscaling.models import autoscaling_backends
    from services import scaling

    backend = autoscaling_backends["123456789012"]["us-east-1"]
    web = backend.autoscaling_groups["web"]
    ids = sorted(s.instance.id for s in web.instance_states)
    for state in web.instance_states:
        state.instance.shop_launched_emulated = time.time()  # launched just now (no fleet)
    assert scaling.not_aggregated(web) == set()  # no default warmup: every instance counts
    group["asg"].update_auto_scaling_group(AutoScalingGroupName="web", DefaultInstanceWarmup=300)
    assert sorted(scaling.not_aggregated(web)) == ids
    for state in web.instance_states:
        state.instance.shop_launched_emulated = time.time() - 301
    assert scaling.not_aggregated(web) == set()
    # 0 is a warm-up of its own, not "use the cooldown".
    group["asg"].update_auto_scaling_group(AutoScalingGroupName="web", DefaultInstanceWarmup=0, DefaultCooldown=900)
    assert scaling.warming(web) == set()
