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
