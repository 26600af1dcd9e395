"""Least privilege, proven: the deployer's policy is rendered from what the roles declare
(roles/*/meta/iam.yml, playbooks/deployer_policy.yml), and the whole lifecycle runs on an emulator
that enforces IAM (tools/emulator/access.py) under a user holding only that policy: build, the security
role's re-run, bake, rolling update, origin secret, cache token and database password rotations, static release, restore,
destroy. The local stack runs with production's optional parts turned on (flow logs, a backup copy
in a second region, deletion protection, a protected stack, a promotion), so every action the policy grants is
used by the lifecycle (but those the roles say AWS needs and the emulator never asks for);
production's own build, re-run and destroy run under production's policy in test_site_production.
A policy short of one action fails the run naming it. Needs podman and the base image (the bake's builder)."""

import json

import pytest
from billable import billable_resources
from helpers import Emulator, apply_deployer_policy, deployer, free_port, run_playbook

pytestmark = pytest.mark.integration
PROJECT = "leastpriv"
STACK = f"{PROJECT}-local"
REGION = "us-east-1"
EXTRA = {"stack_project": PROJECT, "web_image_keep": 1, "web_image_container_repository": "localhost/shop-web-leastpriv"}
# What production turns on and local does not: the actions only they call are granted to every
# environment's deployer (the policy is the same for all), so the lifecycle here calls them too.
PRODUCTION_PARTS = {"network_flow_logs_enabled": True, "database_backup_copy_region": "us-west-2",
                    "database_deletion_protection": True, "loadbalancer_deletion_protection": True,
                    "stack_protected": True, "destroy_confirm": STACK,
                    "compute_promotions": [{"name": "summer-sale-2027", "start": "2027-07-01T08:00:00+02:00",
                                            "end": "2027-07-04T23:59:00+02:00", "min_size": 2, "max_size": 3}]}


@pytest.fixture(scope="module")
def enforced(tmp_path_factory):
    """An emulator of this file's own: the local and production policies applied to a group of each
    environment's deployers, a local deployer, IAM enforced from then on."""
    emu = Emulator(port=free_port(), state_dir=tmp_path_factory.mktemp("least-privilege"))
    emu.start()
    policy_dir = tmp_path_factory.mktemp("deployer-policy")
    documents = {"local": apply_deployer_policy(emu, "local", "local-deployers", policy_dir, extra={**EXTRA, **PRODUCTION_PARTS}),
                 "production": apply_deployer_policy(emu, "production", "production-deployers", policy_dir, extra=EXTRA)}
    keys = {"local": deployer(emu, "local-deployer", group="local-deployers")}
    emu.iam({"enforce": True, "clear": True})
    yield emu, keys, documents
    emu.stop()


def granted(documents: list[dict]) -> set[str]:
    return {action for document in documents for statement in document["Statement"] for action in statement["Action"]}


def unexercised() -> set[str]:
    import yaml
    from helpers import ROOT

    return {action for path in ROOT.glob("roles/*/meta/iam.yml")
            for action in (yaml.safe_load(path.read_text()).get("iam_actions_unexercised") or {})}


def start_backup(emu) -> None:
    instance = emu.client("rds").describe_db_instances(DBInstanceIdentifier=f"{STACK}-mysql")["DBInstances"][0]
    account = instance["DBInstanceArn"].split(":")[4]
    emu.client("backup").start_backup_job(BackupVaultName=f"{STACK}-backup", ResourceArn=instance["DBInstanceArn"],
                                          IamRoleArn=f"arn:aws:iam::{account}:role/{STACK}-backup")


def test_the_whole_lifecycle_runs_with_only_the_rendered_policy(enforced):
    emu, keys, documents = enforced
    for env, stack in (("local", STACK), ("production", f"{PROJECT}-production")):
        for statement in (s for d in documents[env] for s in d["Statement"]):
            if any(action.startswith("s3:") and action != "s3:ListAllMyBuckets" for action in statement["Action"]):
                assert statement["Resource"] == [f"arn:aws:s3:::{stack}-*", f"arn:aws:s3:::{stack}-*/*"], statement
            if statement["Sid"].endswith("StackRoles"):  # the stack's own roles only: no way to others' rights
                assert statement["Resource"] == [f"arn:aws:iam::*:role/{stack}-*",
                                                 f"arn:aws:iam::*:instance-profile/{stack}-*"], statement
        assert all(len(json.dumps(d, separators=(",", ":"))) <= 6144 for d in documents[env])

    # The security role again: the reads a converged stack's re-run makes of what the build made
    # (inline policies: iam:GetRolePolicy); production's whole re-run runs in test_site_production.
    steps = [("build", "site.yml", ()), ("security re-run", "site.yml", ("--tags", "role::security")),
             ("bake", "playbooks/bake_ami.yml", ()), ("rolling update", "playbooks/rolling_update.yml", ()),
             ("rotation", "playbooks/rotate_origin_secret.yml", ()), ("token rotation", "playbooks/rotate_cache_token.yml", ()),
             ("password rotation", "playbooks/rotate_db_password.yml", ()), ("release", "playbooks/release_static.yml", ()),
             ("restore", "playbooks/restore_db.yml", ()), ("destroy", "playbooks/destroy.yml", ())]
    for step, playbook, args in steps:
        if step == "restore":  # the root key stands in for the daily backup plan: a recovery point
            start_backup(emu)
        # The destroy deletes the released static files with their bucket, as an operator asks it to,
        # and the restored instance with the stack's own (no web instance here to compare them on).
        run = run_playbook(emu, playbook, *args, extra={**EXTRA, **PRODUCTION_PARTS, "cdn_force_destroy": True,
                                                        "restore_db_verify": False}, key=keys["local"], timeout=1500)
        assert run.rc == 0, f"{step}: {run.output[-6000:]}\ndenied: {emu.iam()['denied']}"
        if step == "security re-run":
            assert run.recap["changed"] == 0, run.output[-4000:]
    assert billable_resources(emu, REGION) == {}
    assert billable_resources(emu, PRODUCTION_PARTS["database_backup_copy_region"]) == {}
    assert emu.iam()["denied"] == []

    # Least: every action the policy grants was asked for by these runs, but those AWS needs
    # where the emulator never asks (each role says why, in iam_actions_unexercised).
    used = {action for who, actions in emu.iam()["used"].items() if who.endswith("-deployer") for action in actions}
    assert granted(documents["local"]) == granted(documents["production"])
    assert granted(documents["local"]) - used - unexercised() == set()


def test_a_policy_short_of_one_action_fails_the_run_naming_it(enforced):
    emu, _keys, documents = enforced
    short = {"Version": "2012-10-17", "Statement": [
        {**statement, "Action": [a for a in statement["Action"] if a != "ec2:CreateVpc"]}
        for document in documents["local"] for statement in document["Statement"]]}
    key = deployer(emu, "short", policy=short)
    run = run_playbook(emu, "site.yml", extra=EXTRA, key=key, timeout=600)
    assert run.rc != 0
    assert ("User: arn:aws:iam::123456789012:user/short is not authorized to perform: ec2:CreateVpc "
            "because no identity-based policy allows the ec2:CreateVpc action") in run.output
    assert {"principal": "arn:aws:iam::123456789012:user/short", "action": "ec2:CreateVpc",
            "resource": "*"} in emu.iam()["denied"]
    ssm = emu.client("ssm")
    with pytest.raises(ssm.exceptions.ParameterNotFound):
        ssm.get_parameter(Name=f"/{STACK}/lock")  # the failed run released the stack's lock
