"""S3 in the emulator: object reads that carry no AWS signature are authorised as S3 does.

moto's server serves any unsigned request. S3 denies an anonymous request unless the bucket
policy (or an ACL) grants it to everyone, and with the bucket's Block Public Access setting
``RestrictPublicBuckets`` "only AWS service principals and authorized users within the bucket
owner's account" reach a bucket with a public policy (S3 User Guide, "Blocking public access to
your Amazon S3 storage"). CloudFront's Origin Access Control reads as the service principal
``cloudfront.amazonaws.com`` with the distribution as ``aws:SourceArn``, over HTTPS (CloudFront
Developer Guide, "Restrict access to an Amazon S3 origin"): the emulator's CloudFront stand-in
(dataplane.py) sends the ARN in ``X-Emulator-Cloudfront-Source-Arn`` instead of a signature.

Both are evaluated against the bucket policy as IAM does (IAM User Guide, "Policy evaluation
logic"): an explicit Deny wins, else an Allow is needed. Conditions: the String*, Arn* and Bool
operators, with ``IfExists``; a key missing from the request matches no operator but the
``IfExists`` forms. A condition operator not listed here denies (fail closed). The emulator's
front door (awsemu.py) asks ``refusal`` before moto answers.

Fix (always on): moto applies a bucket policy's Deny to signed object writes without the
request's condition keys (an operator it lacks counts as met), so the common ``DenyInsecureTransport`` statement (``Bool
aws:SecureTransport false``) refuses every write. The emulator's plain-HTTP endpoint stands in
for S3's HTTPS endpoints: requests count as made over TLS (``aws:SecureTransport`` true, IAM User
Guide, "AWS global condition context keys"), for signed and unsigned requests alike.
"""

from __future__ import annotations

import fnmatch
import json
import re
import time
from urllib.parse import unquote

SOURCE_ARN_HEADER = "HTTP_X_EMULATOR_CLOUDFRONT_SOURCE_ARN"
_VIRTUAL_HOST = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9.-]*)\.s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com(?::\d+)?$")
_ACCESS_DENIED = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
                  b"<Message>Access Denied</Message><RequestId>emulated</RequestId></Error>")


def install() -> None:
    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    # moto's own evaluation treats a condition operator it lacks (Bool among them) as met.
    results = {"deny": PermissionResult.DENIED, "allow": PermissionResult.PERMITTED, "implicit": PermissionResult.NEUTRAL}

    def get_permission(self, action: str, resource: str):
        if self.policy is None:
            return PermissionResult.NEUTRAL
        return results[evaluate(json.loads(self.policy.decode()), "signed", action, resource, {"aws:securetransport": "true"})]

    FakeBucket.get_permission = get_permission


def unsigned_object_read(environ) -> tuple[str, str] | None:
    """(bucket, key) when the request is an unsigned GET or HEAD of an object, else None."""
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or environ.get("HTTP_AUTHORIZATION"):
        return None
    query = environ.get("QUERY_STRING", "")
    if "Signature=" in query:
        return None  # a presigned URL (X-Amz-Signature or SigV2's Signature): moto checks nothing, neither does this gate
    host = environ.get("HTTP_HOST", "")
    path = unquote(environ.get("PATH_INFO", ""))
    virtual = _VIRTUAL_HOST.match(host)
    if virtual:
        bucket, key = virtual.group("bucket"), path.lstrip("/")
    else:
        bucket, _, key = path.lstrip("/").partition("/")
    return (bucket, key) if bucket and key else None


def refusal(environ) -> bytes | None:
    """The AccessDenied answer for an unsigned object read the bucket does not grant, else None."""
    found = unsigned_object_read(environ)
    if found is None:
        return None
    bucket_name, key = found
    from moto.s3.models import s3_backends

    bucket = None
    for regions in list(s3_backends.values()):
        bucket = regions["global"].buckets.get(bucket_name)
        if bucket is not None:
            break
    if bucket is None:
        return None  # moto answers NoSuchBucket
    source_arn = environ.get(SOURCE_ARN_HEADER, "")
    if source_arn:
        principal = {"Service": "cloudfront.amazonaws.com"}
        parts = source_arn.split(":")
        context = {"aws:sourcearn": source_arn, "aws:sourceaccount": parts[4] if len(parts) > 5 else "",
                   "aws:securetransport": "true"}
    else:
        principal = "anonymous"
        context = {"aws:securetransport": "true"}
    policy = json.loads(bucket.policy.decode()) if bucket.policy else {"Statement": []}
    decision = evaluate(policy, principal, "s3:GetObject", f"arn:aws:s3:::{bucket_name}/{key}", context)
    restricted = bucket.public_access_block is not None and bucket.public_access_block.restrict_public_buckets
    if decision == "allow" and principal == "anonymous" and restricted:
        decision = "deny"
    if decision == "implicit" and principal == "anonymous" and _public_acl(bucket, key):
        decision = "allow"
    if decision != "allow":
        return _ACCESS_DENIED
    if source_arn:
        # Admitted as Origin Access Control's request: signed (SigV4, service s3) as CloudFront signs
        # it, so that moto serves it as an authenticated read. moto checks no signature.
        environ["HTTP_AUTHORIZATION"] = (f"AWS4-HMAC-SHA256 Credential=cloudfront/{time.strftime('%Y%m%d')}/us-east-1/s3/"
                                         "aws4_request, SignedHeaders=host, Signature=origin-access-control")
    return None


def _public_acl(bucket, key: str) -> bool:
    """A public-read ACL grants everyone, unless ACLs are disabled or ignored."""
    block = bucket.public_access_block
    if block is not None and block.ignore_public_acls:
        return False
    if getattr(bucket, "ownership_rule", None) and "BucketOwnerEnforced" in str(bucket.ownership_rule):
        return False
    acls = [bucket.acl]
    stored = bucket.keys.get(key)
    if stored is not None:
        acls.append(getattr(stored, "acl", None))
    for acl in acls:
        for grant in getattr(acl, "grants", None) or []:
            if any(getattr(g, "uri", "") == "http://acs.amazonaws.com/groups/global/AllUsers" for g in grant.grantees) \
                    and {"READ", "FULL_CONTROL"} & set(grant.permissions):
                return True
    return False


def evaluate(policy: dict, principal, action: str, resource: str, context: dict) -> str:
    """'allow', 'deny' (explicit) or 'implicit' for one request against a resource policy."""
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    allowed = False
    for statement in statements:
        if not (_principal_matches(statement, principal) and _matches(statement, "Action", action, ignore_case=True)
                and _matches(statement, "Resource", resource)):
            continue
        effect = statement.get("Effect")
        conditions = _conditions_hold(statement.get("Condition", {}), context)
        if effect == "Deny" and conditions is not False:  # an unknown operator denies
            return "deny"
        if effect == "Allow" and conditions is True:
            allowed = True
    return "allow" if allowed else "implicit"


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def _matches(statement: dict, field: str, value: str, ignore_case: bool = False) -> bool:
    def like(pattern: str) -> bool:
        if ignore_case:
            return fnmatch.fnmatchcase(value.lower(), pattern.lower())
        return fnmatch.fnmatchcase(value, pattern)

    if field in statement:
        return any(like(p) for p in _listed(statement[field]))
    negated = statement.get("Not" + field)
    return negated is not None and not any(like(p) for p in _listed(negated))


def _principal_matches(statement: dict, principal) -> bool:
    given = statement.get("Principal")
    if given == "*" or (isinstance(given, dict) and "*" in _listed(given.get("AWS", []))):
        return True  # everyone, the anonymous requester and the service principals alike
    if isinstance(principal, dict) and isinstance(given, dict):
        return principal["Service"] in _listed(given.get("Service", []))
    return False


def _conditions_hold(conditions: dict, context: dict) -> bool | None:
    """True or False; None when an operator is not modelled."""
    for operator, tests in conditions.items():
        base, if_exists = (operator[:-8], True) if operator.endswith("IfExists") else (operator, False)
        if _operator(base, "", []) is None:
            return None
        for key, expected in tests.items():
            actual = context.get(key.lower())
            if actual is None:
                if not if_exists:
                    return False
                continue
            held = _operator(base, actual, [str(e) for e in _listed(expected)])
            if held is None:
                return None
            if not held:
                return False
    return True


def _operator(name: str, actual: str, expected: list[str]) -> bool | None:
    if name in ("StringEquals", "ArnEquals"):
        return actual in expected
    if name in ("StringNotEquals", "ArnNotEquals"):
        return actual not in expected
    if name == "StringEqualsIgnoreCase":
        return actual.lower() in [e.lower() for e in expected]
    if name in ("StringLike", "ArnLike"):
        return any(fnmatch.fnmatchcase(actual, e) for e in expected)
    if name in ("StringNotLike", "ArnNotLike"):
        return not any(fnmatch.fnmatchcase(actual, e) for e in expected)
    if name == "Bool":
        return actual.lower() in [e.lower() for e in expected]
    return None
