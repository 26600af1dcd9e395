"""IAM access control on the emulator (tools/emulator/access.py): the IAM action each request
needs, evaluated against the identity-based policies of the access key's user, refused the way
the service refuses, through the server as the SDK meets it."""

import json
import sys
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tools/emulator"))

import access  # noqa: E402
from helpers import Emulator, free_port  # noqa: E402

ALLOWED = ["ec2:DescribeVpcs", "cloudwatch:DescribeAlarms", "s3:ListBucket", "s3:CreateBucket",
           "cloudfront:ListDistributions", "ssm:GetParameter*"]


@pytest.fixture(scope="module")
def user(tmp_path_factory):
    """A user allowed ALLOWED (S3 only on buckets named shop-*), denied ssm:GetParametersByPath."""
    emu = Emulator(port=free_port(), state_dir=tmp_path_factory.mktemp("access"))
    emu.start()
    admin = emu.client("iam")
    admin.create_user(UserName="deployer")
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": [a for a in ALLOWED if not a.startswith("s3:")], "Resource": "*"},
        {"Effect": "Allow", "Action": ["S3:listbucket", "s3:CreateBucket"], "Resource": "arn:aws:s3:::shop-*"},
        {"Effect": "Deny", "Action": "ssm:GetParametersByPath", "Resource": "*"}]}
    admin.put_user_policy(UserName="deployer", PolicyName="deploy", PolicyDocument=json.dumps(policy))
    key = admin.create_access_key(UserName="deployer")["AccessKey"]
    emu.iam({"enforce": True, "clear": True})

    def client(service, region="us-east-1"):
        return boto3.client(service, endpoint_url=emu.url, region_name=region,
                            aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    yield emu, client
    emu.stop()


def refused(call) -> dict:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]


def test_allowed_actions_pass_and_others_are_refused_naming_the_action(user):
    emu, client = user
    client("ec2").describe_vpcs()
    client("cloudwatch").describe_alarms()  # signs as monitoring, authorised as cloudwatch
    client("cloudfront").list_distributions()
    client("s3").create_bucket(Bucket="shop-static")
    client("s3").list_objects_v2(Bucket="shop-static")
    client("s3").head_bucket(Bucket="shop-static")  # needs s3:ListBucket
    client("sts").get_caller_identity()  # needs no permission

    error = refused(lambda: client("ec2").create_vpc(CidrBlock="10.0.0.0/16"))
    assert error["Code"] == "UnauthorizedOperation"
    assert error["Message"] == ("User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: "
                                "ec2:CreateVpc because no identity-based policy allows the ec2:CreateVpc action")
    error = refused(lambda: client("cloudwatch").put_metric_alarm(
        AlarmName="a", MetricName="m", Namespace="n", Statistic="Average", Period=60, EvaluationPeriods=1,
        Threshold=1, ComparisonOperator="GreaterThanThreshold"))
    assert "cloudwatch:PutMetricAlarm because" in error["Message"]
    error = refused(lambda: client("cloudfront").get_distribution(Id="E1"))
    assert error["Code"] == "AccessDenied" and "cloudfront:GetDistribution" in error["Message"]
    error = refused(lambda: client("logs").describe_log_groups())
    assert error["Code"] == "AccessDeniedException" and "logs:DescribeLogGroups" in error["Message"]
    error = refused(lambda: client("sns").list_topics())
    assert error["Code"] == "AuthorizationError" and "sns:ListTopics" in error["Message"]

    listing = emu.iam()
    assert {"ec2:CreateVpc", "cloudwatch:PutMetricAlarm"} <= {d["action"] for d in listing["denied"]}
    used = listing["used"]["arn:aws:iam::123456789012:user/deployer"]
    assert used["s3:ListBucket"] == 2 and used["cloudwatch:DescribeAlarms"] == 1


def test_s3_is_checked_on_the_bucket_and_the_permission_the_operation_needs(user):
    _emu, client = user
    error = refused(lambda: client("s3").create_bucket(Bucket="other-bucket"))
    assert error["Message"] == ("User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: "
                                "s3:CreateBucket on resource: arn:aws:s3:::other-bucket because no identity-based "
                                "policy allows the s3:CreateBucket action")
    error = refused(lambda: client("s3").put_public_access_block(
        Bucket="shop-static", PublicAccessBlockConfiguration={"BlockPublicAcls": True}))
    assert "s3:PutBucketPublicAccessBlock on resource: arn:aws:s3:::shop-static" in error["Message"]
    error = refused(lambda: client("s3").put_object(Bucket="shop-static", Key="a/b.css", Body=b"x"))
    assert "s3:PutObject on resource: arn:aws:s3:::shop-static/a/b.css" in error["Message"]


def test_an_explicit_deny_wins_over_an_allow(user):
    _emu, client = user
    client("ssm").get_parameters(Names=["/x"])  # allowed by ssm:GetParameter*
    error = refused(lambda: client("ssm").get_parameters_by_path(Path="/x"))
    assert error["Message"].endswith("ssm:GetParametersByPath with an explicit deny in an identity-based policy")


def test_the_root_key_is_not_checked_and_enforcement_can_be_turned_off(user):
    emu, client = user
    emu.client("ec2").create_vpc(CidrBlock="10.1.0.0/16")  # the account's root user
    emu.iam({"enforce": False})
    try:
        client("ec2").create_vpc(CidrBlock="10.2.0.0/16")  # recorded, not refused
        assert emu.iam()["used"]["arn:aws:iam::123456789012:user/deployer"]["ec2:CreateVpc"] >= 1
    finally:
        emu.iam({"enforce": True})


@pytest.mark.parametrize(("service", "method", "path", "query", "operation"), [
    ("s3", "GET", "/shop-static", "list-type=2", "ListObjectsV2"),
    ("s3", "PUT", "/shop-static", "publicAccessBlock", "PutPublicAccessBlock"),
    ("s3", "PUT", "/shop-static", "", "CreateBucket"),
    ("s3", "HEAD", "/shop-static/a/b.css", "", "HeadObject"),
    ("s3", "POST", "/shop-static", "delete", "DeleteObjects"),
    ("s3", "GET", "/", "", "ListBuckets"),
    ("cloudfront", "GET", "/2020-05-31/distribution/E1/config", "", "GetDistributionConfig"),
    ("cloudfront", "PUT", "/2020-05-31/distribution/E1/config", "", "UpdateDistribution"),
    ("cloudfront", "POST", "/2020-05-31/distribution", "WithTags", "CreateDistributionWithTags"),
])
def test_rest_requests_are_named_by_the_service_model(service, method, path, query, operation):
    assert access.rest_operation(service, method, path, query) == operation


def test_policy_evaluation():
    allow = {"Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"},
                           {"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*",
                            "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}}]}
    values = {"aws:requestedregion": "us-east-1"}
    assert access.evaluate([allow], "EC2:describevpcs", "*", values) == "allow"
    assert access.evaluate([allow], "ec2:RunInstances", "*", values) == "implicit"
    assert access.evaluate([allow], "ec2:RunInstances", "*", {"aws:requestedregion": "eu-west-1"}) == "allow"
    deny = {"Statement": {"Effect": "Deny", "NotAction": "ec2:DescribeVpcs", "Resource": "*"}}
    assert access.evaluate([allow, deny], "ec2:DescribeSubnets", "*", values) == "explicit"
    assert access.evaluate([allow, deny], "ec2:DescribeVpcs", "*", values) == "allow"
    unknown = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*",
                              "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}
    assert access.evaluate([unknown], "ec2:DescribeVpcs", "*", values) == "implicit"


def test_iam_requests_are_checked_on_the_role_or_instance_profile_they_name(user):
    _emu, client = user
    error = refused(lambda: client("iam").create_role(RoleName="shop-web", AssumeRolePolicyDocument="{}"))
    assert "iam:CreateRole on resource: arn:aws:iam::123456789012:role/shop-web because" in error["Message"]
    error = refused(lambda: client("iam").get_instance_profile(InstanceProfileName="shop-web"))
    assert "iam:GetInstanceProfile on resource: arn:aws:iam::123456789012:instance-profile/shop-web" in error["Message"]
    error = refused(lambda: client("iam").list_roles())
    assert "iam:ListRoles because" in error["Message"]
