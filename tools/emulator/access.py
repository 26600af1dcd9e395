"""IAM access control on the emulator's requests: identity-based policies of IAM users, enforced.

moto can check IAM policies itself (INITIAL_NO_AUTH_ACTION_COUNT), but it names the action after
the request's signing name and its own guess of the operation (CloudWatch's calls become
``monitoring:...``, S3's ``HeadBucket`` is not ``s3:ListBucket``, CloudFront's are unnamed), and
it refuses JSON and CloudFront requests in a form the SDK cannot parse. This module decides the
way IAM does, for the identity-based policies of the access key's IAM user:

- The action is the IAM action of the API operation (Service Authorization Reference,
  https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html):
  the service prefix (CloudWatch's is ``cloudwatch``, though it signs as ``monitoring``), and for
  S3 the permission each operation needs (``HeadBucket`` and ``ListObjectsV2`` need
  ``s3:ListBucket``, ``PutBucketEncryption`` needs ``s3:PutEncryptionConfiguration``...: "Required
  permissions for Amazon S3 API operations",
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html,
  each operation's "Permissions").
- The resource is the bucket's or object's ARN for S3, the role's or instance profile's ARN for
  IAM requests that name one; ``*`` for the rest (a statement naming another resource does not
  match them here, so scope only those by resource).
- Evaluation (IAM User Guide, "Policy evaluation logic",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html): an
  explicit Deny wins, then an Allow, else the request is implicitly denied. Actions match without
  regard to case, resources with it; ``*`` and ``?`` are wildcards. Conditions: the String and Arn
  operators (and their IfExists forms) on ``aws:RequestedRegion``, ``aws:username`` and
  ``aws:PrincipalArn``; a key the request lacks fails a condition without IfExists, and a
  statement with any other condition does not apply.
- The refusal is the service's own (IAM User Guide, "Troubleshoot access denied error messages",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html): "User: <arn>
  is not authorized to perform: <action> [on resource: <arn>] because no identity-based policy
  allows the <action> action", as EC2's ``UnauthorizedOperation`` (EC2 API error codes), SNS's
  ``AuthorizationError`` (SNS API reference, common errors), ``AccessDeniedException`` for JSON
  services and ``AccessDenied`` otherwise.

A request signed with a key of no IAM user is the account's root user (the emulator's
``testing`` key): allowed everything, as the root user is not subject to identity-based policies.
Every request is recorded by principal and action (``/_emulator/iam``), checked or not, so a
test can show which of a policy's actions a run used.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter, defaultdict
from urllib.parse import parse_qs, unquote

ACCOUNT = "123456789012"  # moto's default account
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
# Signing names whose IAM service prefix differs (Service Authorization Reference: CloudWatch).
PREFIX = {"monitoring": "cloudwatch"}
# AWS Budgets authorises its operations with two actions (Service Authorization Reference, "Actions,
# resources, and condition keys for AWS Budget Service", API operations table): reads need
# budgets:ViewBudget, changes to a budget, its notifications or subscribers budgets:ModifyBudget.
BUDGETS_PERMISSION = {
    **dict.fromkeys(("DescribeBudget", "DescribeBudgets", "DescribeNotificationsForBudget",
                     "DescribeSubscribersForNotification", "DescribeBudgetPerformanceHistory"), "ViewBudget"),
    **dict.fromkeys(("CreateBudget", "UpdateBudget", "DeleteBudget", "CreateNotification", "UpdateNotification",
                     "DeleteNotification", "CreateSubscriber", "UpdateSubscriber", "DeleteSubscriber"), "ModifyBudget"),
}
# The permission each S3 operation needs where it is not the operation's own name (the S3 API
# reference's "Permissions" of each operation).
S3_PERMISSION = {
    "HeadBucket": "ListBucket", "ListObjects": "ListBucket", "ListObjectsV2": "ListBucket",
    "ListObjectVersions": "ListBucketVersions", "ListBuckets": "ListAllMyBuckets",
    "HeadObject": "GetObject", "CopyObject": "PutObject", "DeleteObjects": "DeleteObject",
    "CreateMultipartUpload": "PutObject", "UploadPart": "PutObject", "CompleteMultipartUpload": "PutObject",
    "ListMultipartUploads": "ListBucketMultipartUploads", "ListParts": "ListMultipartUploadParts",
    "GetBucketEncryption": "GetEncryptionConfiguration", "PutBucketEncryption": "PutEncryptionConfiguration",
    "DeleteBucketEncryption": "PutEncryptionConfiguration",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock", "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeleteBucketOwnershipControls": "PutBucketOwnershipControls",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration", "GetBucketLifecycle": "GetLifecycleConfiguration",
    "PutBucketLifecycle": "PutLifecycleConfiguration", "GetBucketInventoryConfiguration": "GetInventoryConfiguration",
    "PutBucketInventoryConfiguration": "PutInventoryConfiguration",
    "GetBucketMetricsConfiguration": "GetMetricsConfiguration", "GetBucketAnalyticsConfiguration": "GetAnalyticsConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration", "DeleteBucketLifecycle": "PutLifecycleConfiguration",
    "DeleteBucketTagging": "PutBucketTagging", "GetBucketCors": "GetBucketCORS", "PutBucketCors": "PutBucketCORS",
    "DeleteBucketCors": "PutBucketCORS", "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "GetBucketAccelerateConfiguration": "GetAccelerateConfiguration",
    "PutBucketAccelerateConfiguration": "PutAccelerateConfiguration",
    "GetBucketReplication": "GetReplicationConfiguration", "PutBucketReplication": "PutReplicationConfiguration",
    "DeleteBucketReplication": "PutReplicationConfiguration",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "PutBucketObjectLockConfiguration",
}
# CloudFront operations that need more than their own name (CloudFront Developer Guide, "Actions,
# resources, and condition keys for Amazon CloudFront": CreateDistributionWithTags).
CLOUDFRONT_PERMISSIONS = {"CreateDistributionWithTags": ("CreateDistribution", "TagResource")}
CODES = {"ec2": "UnauthorizedOperation", "sns": "AuthorizationError"}
_CONDITION_KEYS = ("aws:requestedregion", "aws:username", "aws:principalarn")


class Access:
    """Whether requests are checked, and what each principal asked for."""

    def __init__(self) -> None:
        self.enforce = False
        self.used: dict[str, Counter[str]] = defaultdict(Counter)
        self.denied: list[dict] = []
        self.lock = threading.Lock()

    def clear(self) -> None:
        with self.lock:
            self.used.clear()
            self.denied.clear()

    def listing(self) -> dict:
        with self.lock:
            return {"enforce": self.enforce, "used": {who: dict(sorted(c.items())) for who, c in self.used.items()},
                    "denied": list(self.denied)}

    def check(self, environ: dict, body: bytes, service: str, operation: str, key_id: str | None):
        """None when the request may go on; else the refusal (status, content type, body)."""
        if key_id is None:
            return None  # unsigned: a public read, authorised (or not) by a bucket's policy
        who, policies = principal(key_id)
        actions, resource = permissions(environ, service, operation, body)
        verdicts = [(action, evaluate(policies, action, resource, context(environ, who))
                     if policies is not None else "allow") for action in actions]
        with self.lock:
            for action, _ in verdicts:
                self.used[who][action] += 1
        refused = next(((action, verdict) for action, verdict in verdicts if verdict != "allow"), None)
        if refused is None or not self.enforce:
            return None
        action, verdict = refused
        with self.lock:
            self.denied.append({"principal": who, "action": action, "resource": resource})
        return refusal(environ, service, who, action, resource, verdict)


ACCESS = Access()


def principal(key_id: str) -> tuple[str, list[dict] | None]:
    """The ARN of the IAM user holding this access key and its policy documents; the root user
    (no policies: not checked) when no IAM user holds it."""
    from moto.iam.models import iam_backends

    backend = iam_backends[ACCOUNT]["aws"]
    for user in backend.users.values():
        if any(key.access_key_id == key_id for key in user.access_keys):
            return user.arn, _user_policies(backend, user.name)
    return ROOT, None


def _user_policies(backend, user_name: str) -> list[dict]:
    documents = [backend.get_user_policy(user_name, name)["policy_document"]
                 for name in backend.list_user_policies(user_name)]
    attached, _ = backend.list_attached_user_policies(user_name)
    for group in backend.get_groups_for_user(user_name):
        documents += [backend.get_group_policy(group.name, name)["policy_document"]
                      for name in backend.list_group_policies(group.name)]
        attached += backend.list_attached_group_policies(group.name)[0]
    for policy in attached:
        documents.append(next(version.document for version in policy.versions if version.is_default))
    return [json.loads(document) if isinstance(document, str) else document for document in documents]


def permissions(environ: dict, service: str, operation: str, body: bytes = b"") -> tuple[tuple[str, ...], str]:
    """The IAM actions a request needs, and the resource they are checked on."""
    prefix = PREFIX.get(service, service)
    if (service, operation) == ("sts", "GetCallerIdentity"):
        return (), "*"  # "No permissions are required to perform this operation" (STS API reference)
    if service == "s3":
        bucket, key = _s3_target(environ)
        name = S3_PERMISSION.get(operation, operation)
        resource = f"arn:aws:s3:::{bucket}/{key}" if key else (f"arn:aws:s3:::{bucket}" if bucket else "*")
        return (f"s3:{name}",), resource
    if service == "iam":
        return (f"iam:{operation}",), _iam_resource(environ, body)
    if service == "budgets":
        return (f"budgets:{BUDGETS_PERMISSION.get(operation, operation)}",), "*"
    if service == "cloudfront":
        return tuple(f"cloudfront:{name}" for name in CLOUDFRONT_PERMISSIONS.get(operation, (operation,))), "*"
    return (f"{prefix}:{operation}",), "*"


def _iam_resource(environ: dict, body: bytes) -> str:
    """The role or instance profile an IAM request names (Service Authorization Reference, IAM's
    resource types: role, instance-profile; a role's actions are authorised on the role even when
    they name a policy too), else ``*``."""
    from moto.iam.exceptions import NotFoundException
    from moto.iam.models import iam_backends

    params = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    params.update({k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()})
    backend = iam_backends[ACCOUNT]["aws"]
    for key, kind, find in (("RoleName", "role", backend.get_role),
                            ("InstanceProfileName", "instance-profile", backend.get_instance_profile)):
        if key in params:
            try:
                path = find(params[key]).path or "/"
            except NotFoundException:  # not made yet (a create): the path asked for
                path = params.get("Path", "/")
            return f"arn:aws:iam::{ACCOUNT}:{kind}{path}{params[key]}"
    return "*"


def _s3_target(environ: dict) -> tuple[str, str]:
    host = environ.get("HTTP_HOST", "")
    path = unquote(environ.get("PATH_INFO", "/"))
    match = re.match(r"^([a-z0-9.-]+)\.s3[.-]", host)
    if match:  # virtual-hosted style: the bucket in the host name
        return match.group(1), path.lstrip("/")
    bucket, _, key = path.lstrip("/").partition("/")
    return bucket, key


def context(environ: dict, who: str) -> dict[str, str]:
    scope = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/", environ.get("HTTP_AUTHORIZATION", "")) or re.search(
        r"X-Amz-Credential=[^/&]+(?:/|%2F)\d{8}(?:/|%2F)([^/&%]+)", environ.get("QUERY_STRING", ""))
    values = {"aws:principalarn": who, "aws:username": who.rpartition("/")[2]}
    if scope:
        values["aws:requestedregion"] = scope.group(1)
    return values


def evaluate(policies: list[dict], action: str, resource: str, values: dict[str, str]) -> str:
    """"allow", "explicit" (an explicit Deny) or "implicit" (nothing allows it)."""
    allowed = False
    for document in policies:
        statements = document.get("Statement", [])
        for statement in statements if isinstance(statements, list) else [statements]:
            if not _applies(statement, action, resource, values):
                continue
            if statement.get("Effect") == "Deny":
                return "explicit"
            allowed = allowed or statement.get("Effect") == "Allow"
    return "allow" if allowed else "implicit"


def _applies(statement: dict, action: str, resource: str, values: dict[str, str]) -> bool:
    if "Action" in statement:
        if not _matches(statement["Action"], action, ignore_case=True):
            return False
    elif "NotAction" in statement and _matches(statement["NotAction"], action, ignore_case=True):
        return False
    if "Resource" in statement:
        if not _matches(statement["Resource"], resource, ignore_case=False):
            return False
    elif "NotResource" in statement and _matches(statement["NotResource"], resource, ignore_case=False):
        return False
    return _conditions_hold(statement.get("Condition", {}), values)


def _matches(patterns, value: str, ignore_case: bool) -> bool:
    for pattern in [patterns] if isinstance(patterns, str) else patterns:
        expression = "^" + re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".") + "$"
        if re.match(expression, value, re.IGNORECASE if ignore_case else 0):
            return True
    return False


def _conditions_hold(conditions: dict, values: dict[str, str]) -> bool:
    for operator, tests in conditions.items():
        base = operator.removesuffix("IfExists")
        if base not in ("StringEquals", "StringNotEquals", "StringLike", "StringNotLike", "ArnEquals", "ArnLike",
                        "ArnNotEquals", "ArnNotLike"):
            return False
        for key, wanted in tests.items():
            if key.lower() not in _CONDITION_KEYS:
                return False
            value = values.get(key.lower())
            if value is None:
                if operator.endswith("IfExists"):
                    continue
                return False
            wanted = [wanted] if isinstance(wanted, str) else wanted
            like = base.endswith("Like") or base.startswith("Arn")
            hit = any(_matches(w, value, ignore_case=False) if like else w == value for w in wanted)
            if hit == ("Not" in base):
                return False
    return True


def refusal(environ: dict, service: str, who: str, action: str, resource: str, verdict: str):
    on = f" on resource: {resource}" if resource != "*" else ""
    why = ("with an explicit deny in an identity-based policy" if verdict == "explicit"
           else f"because no identity-based policy allows the {action} action")
    message = f"User: {who} is not authorized to perform: {action}{on} {why}"
    if environ.get("HTTP_X_AMZ_TARGET"):
        body = json.dumps({"__type": "AccessDeniedException", "message": message}).encode()
        return 400, "application/x-amz-json-1.1", body
    text = message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if service == "ec2":
        return 403, "text/xml", (f'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error>'
                                 f"<Code>UnauthorizedOperation</Code><Message>{text}</Message></Error></Errors>"
                                 f"<RequestID>emulated</RequestID></Response>").encode()
    if service == "s3":
        return 403, "application/xml", (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
                                        f"<Message>{text}</Message><RequestId>emulated</RequestId></Error>").encode()
    code = CODES.get(service, "AccessDenied")
    return 403, "text/xml", (f'<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Type>Sender</Type>'
                             f"<Code>{code}</Code><Message>{text}</Message></Error>"
                             f"<RequestId>emulated</RequestId></ErrorResponse>").encode()


# --------------------------------------------------------------------------- REST operations
_REST_ROUTES: dict[str, list] = {}


def rest_operation(service: str, method: str, path: str, query: str) -> str | None:
    """The operation of a REST request (S3, CloudFront): the botocore model's operation whose
    method, path template and required query keys match, the most specific one."""
    routes = _REST_ROUTES.get(service)
    if routes is None:
        routes = _REST_ROUTES[service] = _routes(service)
    keys = parse_qs(query, keep_blank_values=True)
    best = None
    for name, route_method, pattern, required, literal in routes:
        if route_method != method or not pattern.match(path):
            continue
        if not all(k in keys and (v is None or v in keys[k]) for k, v in required):
            continue
        score = (len(required), literal)
        if best is None or score > best[0]:
            best = (score, name)
    return best[1] if best else None


def _routes(service: str) -> list:
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        template, _, query = http["requestUri"].partition("?")
        expression = ""
        for part in re.split(r"(\{[^}]+\})", template):
            if part.startswith("{"):
                expression += ".+" if part.endswith("+}") else "[^/]+"
            else:
                expression += re.escape(part)
        expression = "^" + expression.rstrip("/") + "/?$"
        # x-id names the operation for HTTP caches; not every client sends it.
        required = [(k, v or None) for k, _, v in (item.partition("=") for item in query.split("&") if item)
                    if k != "x-id"]
        routes.append((name, http["method"], re.compile(expression), required, len(re.sub(r"\{[^}]+\}", "", template))))
    return routes
