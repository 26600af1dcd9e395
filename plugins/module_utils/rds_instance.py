"""One RDS DB instance read, and waited on, the same way by the modules that change its master password,
and the stages of the secret that holds it."""

from __future__ import annotations

import time

try:
    from botocore.exceptions import BotoCoreError, ClientError

    AWS_ERRORS = (ClientError, BotoCoreError)
except ImportError:
    AWS_ERRORS = ()  # AnsibleAWSModule reports the missing botocore

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code

# Statuses after which the instance will not become available by waiting (RDS User Guide,
# "Viewing Amazon RDS DB instance status").
GONE = {"deleting", "failed", "incompatible-parameters", "incompatible-restore", "storage-full"}


def describe(module, rds, identifier: str) -> dict:
    """DescribeDBInstances' answer for ``identifier``; the module fails when there is none."""
    try:
        return rds.describe_db_instances(aws_retry=True, DBInstanceIdentifier=identifier)["DBInstances"][0]
    except is_boto3_error_code("DBInstanceNotFound"):
        return module.fail_json(msg=f"db_instance_identifier: no RDS instance {identifier} (build the stack first)")
    except AWS_ERRORS as exc:  # pylint: disable=duplicate-except
        return module.fail_json_aws(exc, msg=f"Could not read the RDS instance {identifier}")


def wait_settled(module, rds, identifier: str, what: str, ready=None) -> dict:
    """The instance once it is available with no master password pending and ``ready(instance)``
    holds; the module fails on a status that cannot lead there, or after wait_timeout seconds."""
    deadline = time.monotonic() + module.params["wait_timeout"]
    while True:
        instance = describe(module, rds, identifier)
        status = instance["DBInstanceStatus"]
        if status == "available" and "MasterUserPassword" not in instance.get("PendingModifiedValues", {}) \
                and (ready is None or ready(instance)):
            return instance
        if status in GONE:
            module.fail_json(msg=f"The RDS instance {identifier} is {status}: {what} cannot go on")
        if time.monotonic() > deadline:
            secret = instance.get("MasterUserSecret", {}).get("SecretStatus")
            module.fail_json(msg=f"The RDS instance {identifier} was still {status}"
                                 f"{f' (its master password secret {secret})' if secret else ''} after "
                                 f"wait_timeout={module.params['wait_timeout']} s ({what})")
        time.sleep(module.params["poll_seconds"])


def stage_versions(described: dict) -> tuple[str, str]:
    """(the AWSCURRENT version, the AWSPENDING version when it is another) of DescribeSecret's answer."""
    current = pending = ""
    for version, stages in (described.get("VersionIdsToStages") or {}).items():
        if "AWSCURRENT" in stages:
            current = version
        if "AWSPENDING" in stages:
            pending = version
    return current, "" if pending == current else pending
