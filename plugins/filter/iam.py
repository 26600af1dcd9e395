"""The deployer's IAM policy, from the actions each role declares (roles/<role>/meta/iam.yml).

A pure function of the declarations: playbooks/deployer_policy.yml writes the documents and,
when asked, makes them managed policies in IAM.
"""

from __future__ import annotations

import json
import re

from ansible.errors import AnsibleFilterError

DOCUMENTATION_DEPLOYER_POLICY = """
deployer_policy(declarations, stack_name, max_chars=6144)
    declarations: {role: {iam_actions: [service:Action, ...],
                          iam_actions_unexercised: {service:Action: why, ...}}}.
    One statement per role, its actions on "*" except: S3's, allowed on the stack's buckets
    (<stack>-*) and their objects only; IAM's, on the stack's roles and instance profiles
    (<stack>-*) only, iam:PassRole only to EC2, VPC Flow Logs, RDS Enhanced Monitoring and AWS Backup, and
    iam:CreateServiceLinkedRole only for the services the stack uses. An action two roles
    declare is listed once, by the first in name order. Returns the policy documents, as many as it takes for each to stay
    within max_chars characters without whitespace (IAM's quota for a managed policy: 6,144,
    IAM User Guide, "IAM and AWS STS quotas"), statements kept whole.
"""

ACTION = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9*]+$")
S3_ACCOUNT_WIDE = {"s3:ListAllMyBuckets"}  # no bucket to scope it to (S3 resource types)
# IAM actions without a role or instance profile to scope them to (IAM's resource types).
IAM_ACCOUNT_WIDE = {"iam:ListRoles", "iam:ListInstanceProfiles", "iam:ListPolicies", "iam:GetAccountSummary",
                    "iam:ListAccountAliases"}
# Whom the stack's roles are passed to: the web and builder instances' profile, the flow logs'
# delivery role, the database's Enhanced Monitoring role (EC2 User Guide, "Permissions to pass a
# role"; VPC User Guide, "IAM role for publishing flow logs to CloudWatch Logs"; RDS User Guide,
# "Setting up and enabling Enhanced Monitoring"; AWS Backup Developer Guide, "Assigning resources
# to a backup plan").
PASSED_TO = ["ec2.amazonaws.com", "vpc-flow-logs.amazonaws.com", "monitoring.rds.amazonaws.com", "backup.amazonaws.com"]
# The service-linked roles an account's first Auto Scaling group, load balancer, DB instance
# and cache cluster make (each service's "Using service-linked roles").
LINKED_SERVICES = ["autoscaling.amazonaws.com", "elasticloadbalancing.amazonaws.com", "rds.amazonaws.com",
                   "elasticache.amazonaws.com"]


def _sid(role: str, suffix: str = "") -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", role)) + suffix


def _statement(sid: str, actions: list[str], resource) -> dict:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resource}


def _size(document: dict) -> int:
    return len(json.dumps(document, separators=(",", ":")))


def deployer_policy(declarations, stack_name, max_chars=6144):
    if not isinstance(declarations, dict) or not declarations:
        raise AnsibleFilterError("deployer_policy: declarations must be a non-empty mapping of role to its meta/iam.yml")
    if not re.match(r"^[a-z0-9][a-z0-9-]*$", str(stack_name)):
        raise AnsibleFilterError(f"deployer_policy: stack_name must be lower-case letters, digits and hyphens (got {stack_name!r})")
    buckets = [f"arn:aws:s3:::{stack_name}-*", f"arn:aws:s3:::{stack_name}-*/*"]
    roles = [f"arn:aws:iam::*:role/{stack_name}-*", f"arn:aws:iam::*:instance-profile/{stack_name}-*"]
    statements, listed = [], set()
    for role in sorted(declarations):
        declared = declarations[role] or {}
        actions = list(declared.get("iam_actions") or []) + list(declared.get("iam_actions_unexercised") or {})
        bad = [action for action in actions if not isinstance(action, str) or not ACTION.match(action)]
        if bad:
            raise AnsibleFilterError(f"deployer_policy: roles/{role}/meta/iam.yml: not an IAM action (service:Action): {bad}")
        fresh = sorted(set(actions) - listed)
        listed.update(fresh)
        kinds: dict[str, list[str]] = {}
        for action in fresh:
            if action.startswith("s3:") and action not in S3_ACCOUNT_WIDE:
                kind = "StackBuckets"
            elif action in ("iam:PassRole", "iam:CreateServiceLinkedRole"):
                kind = action.removeprefix("iam:")
            elif action.startswith("iam:") and action not in IAM_ACCOUNT_WIDE:
                kind = "StackRoles"
            else:
                kind = ""
            kinds.setdefault(kind, []).append(action)
        for kind, chosen in kinds.items():
            resource = {"StackBuckets": buckets, "StackRoles": roles, "PassRole": roles[:1]}.get(kind, "*")
            statement = _statement(_sid(role, kind), chosen, resource)
            if kind == "PassRole":
                statement["Condition"] = {"StringEquals": {"iam:PassedToService": PASSED_TO}}
            if kind == "CreateServiceLinkedRole":
                statement["Condition"] = {"StringEquals": {"iam:AWSServiceName": LINKED_SERVICES}}
            statements.append(statement)
    documents, current = [], []
    for statement in statements:
        single = {"Version": "2012-10-17", "Statement": [statement]}
        if _size(single) > max_chars:
            raise AnsibleFilterError(f"deployer_policy: statement {statement['Sid']} alone is {_size(single)} characters, "
                                     f"over the {max_chars} of a managed policy")
        if current and _size({"Version": "2012-10-17", "Statement": [*current, statement]}) > max_chars:
            documents.append({"Version": "2012-10-17", "Statement": current})
            current = []
        current.append(statement)
    if current:
        documents.append({"Version": "2012-10-17", "Statement": current})
    return documents


class FilterModule:
    def filters(self):
        return {"deployer_policy": deployer_policy}
