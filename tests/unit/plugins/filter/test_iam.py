"""deployer_policy: the roles' declared IAM actions as the deployer's policy documents."""

import json

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.shop.aws.plugins.filter.iam import deployer_policy

DECLARED = {
    "network": {"iam_actions": ["ec2:CreateVpc", "ec2:DescribeVpcs", "iam:CreateRole", "iam:ListRoles"],
                "iam_actions_unexercised": {"iam:PassRole": "flow logs' delivery role"}},
    "cdn": {"iam_actions": ["s3:CreateBucket", "s3:PutObject", "s3:ListAllMyBuckets", "ec2:DescribeVpcs"]},
    "cache": {"iam_actions_unexercised": {"iam:CreateServiceLinkedRole": "the account's first cluster"}},
}


def statements(documents):
    return {statement["Sid"]: statement for document in documents for statement in document["Statement"]}


def test_one_statement_per_role_and_kind_each_scoped_to_the_stack():
    found = statements(deployer_policy(DECLARED, "shop-production"))
    # ec2:DescribeVpcs is listed once, by the first role in name order that declares it (cdn).
    assert found["Network"] == {"Sid": "Network", "Effect": "Allow", "Action": ["ec2:CreateVpc", "iam:ListRoles"],
                                "Resource": "*"}
    assert found["NetworkStackRoles"]["Resource"] == ["arn:aws:iam::*:role/shop-production-*",
                                                      "arn:aws:iam::*:instance-profile/shop-production-*"]
    assert found["NetworkPassRole"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com", "vpc-flow-logs.amazonaws.com",
                                                 "monitoring.rds.amazonaws.com", "backup.amazonaws.com"]}}
    assert found["NetworkPassRole"]["Resource"] == ["arn:aws:iam::*:role/shop-production-*"]
    assert found["CdnStackBuckets"] == {"Sid": "CdnStackBuckets", "Effect": "Allow", "Action": ["s3:CreateBucket", "s3:PutObject"],
                                        "Resource": ["arn:aws:s3:::shop-production-*", "arn:aws:s3:::shop-production-*/*"]}
    assert found["Cdn"]["Action"] == ["ec2:DescribeVpcs", "s3:ListAllMyBuckets"]
    assert "rds.amazonaws.com" in found["CacheCreateServiceLinkedRole"]["Condition"]["StringEquals"]["iam:AWSServiceName"]


def test_documents_are_split_to_stay_within_the_managed_policy_size():
    many = {f"role{i}": {"iam_actions": [f"ec2:Action{i}x{j}" for j in range(40)]} for i in range(10)}
    documents = deployer_policy(many, "shop-local", max_chars=2000)
    assert len(documents) > 1
    assert all(len(json.dumps(d, separators=(",", ":"))) <= 2000 for d in documents)
    assert sum(len(s["Action"]) for d in documents for s in d["Statement"]) == 400


@pytest.mark.parametrize(("declared", "stack", "message"), [
    ({"cdn": {"iam_actions": ["s3 PutObject"]}}, "shop", "roles/cdn/meta/iam.yml: not an IAM action (service:Action): ['s3 PutObject']"),
    ({}, "shop", "declarations must be a non-empty mapping"),
    ({"cdn": {"iam_actions": ["s3:PutObject"]}}, "Shop Prod", "stack_name must be lower-case letters, digits and hyphens (got 'Shop Prod')"),
    ({"cdn": {"iam_actions": [f"ec2:A{i}" for i in range(400)]}}, "shop", "statement Cdn alone is"),
])
def test_bad_declarations_are_refused_by_name(declared, stack, message):
    with pytest.raises(AnsibleFilterError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
                       .replace("]", r"\]")):
        deployer_policy(declared, stack, max_chars=2000)
