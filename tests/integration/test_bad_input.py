"""Bad input is refused before any AWS call, with a message naming the variable."""

import pytest
from helpers import run_playbook

pytestmark = pytest.mark.integration

CASES = [
    ("invalid VPC CIDR", {"network_vpc_cidr": "10.0.0.0/33"}, "network_vpc_cidr"),
    ("VPC CIDR with host bits", {"network_vpc_cidr": "10.0.0.1/16"}, "network_vpc_cidr"),
    ("overlapping subnets", {"network_subnets": {"public": ["10.10.0.0/24", "10.10.1.0/24"],
                                                 "app": ["10.10.0.128/25", "10.10.2.0/24"],
                                                 "db": ["10.10.3.0/24", "10.10.4.0/24"]}}, "network_subnets"),
    ("subnet outside the VPC", {"network_subnets": {"public": ["10.10.0.0/24", "10.10.1.0/24"],
                                                    "app": ["10.99.0.0/24", "10.10.2.0/24"],
                                                    "db": ["10.10.3.0/24", "10.10.4.0/24"]}}, "network_subnets"),
    ("typo in an AZ", {"network_azs": ["us-east-1a", "us-east1b"]}, "network_azs"),
    ("AZ of another region", {"network_azs": ["eu-west-1a", "eu-west-1b"]}, "network_azs"),
    ("one AZ only", {"network_azs": ["us-east-1a"]}, "network_azs"),
    ("unknown NAT mode", {"network_nat_mode": "cheap"}, "network_nat_mode"),
    ("min above max", {"compute_min_size": 5, "compute_max_size": 3, "compute_desired_capacity": 4}, "compute_min_size"),
    ("desired outside min..max", {"compute_desired_capacity": 9}, "compute_desired_capacity"),
    ("RDS class as EC2 type", {"compute_instance_type": "db.t4g.micro"}, "compute_instance_type"),
    ("backup retention out of range", {"database_backup_retention_days": 40}, "database_backup_retention_days"),
    ("backups turned off", {"database_backup_retention_days": 0}, "database_backup_retention_days"),
    ("non-db instance class", {"database_instance_class": "t4g.micro"}, "database_instance_class"),
    ("backup window too short", {"database_backup_window": "02:00-02:10"}, "database_backup_window"),
    ("reserved master user", {"database_master_username": "rdsadmin"}, "database_master_username"),
    ("unknown log export", {"database_log_exports": ["error", "slow"]}, "database_log_exports"),
    ("bad bucket name", {"cdn_bucket_name": "Shop_Static"}, "cdn_bucket_name"),
    ("aliases without certificate", {"cdn_aliases": ["shop.example.com"]}, "cdn_aliases"),
    ("certificate outside us-east-1", {"cdn_aliases": ["shop.example.com"],
                                       "cdn_certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc-123"},
     "cdn_certificate_arn"),
    ("bad ALB certificate", {"loadbalancer_certificate_arn": "my-cert"}, "loadbalancer_certificate_arn"),
    ("bad alert address", {"monitoring_alert_emails": ["ops-at-example.com"]}, "monitoring_alert_emails"),
    ("log retention CloudWatch refuses", {"monitoring_log_retention_days": 10}, "monitoring_log_retention_days"),
    ("cache class as node type", {"cache_node_type": "t4g.micro"}, "cache_node_type"),
    ("queue retention out of range", {"messaging_retention_seconds": 30}, "messaging_retention_seconds"),
    ("bad environment name", {"stack_environment": "Prod!"}, "stack_environment"),
    ("overlapping promotions", {"compute_promotions": [
        {"name": "a", "start": "2099-11-26T00:00:00Z", "end": "2099-11-28T00:00:00Z", "min_size": 4, "max_size": 8},
        {"name": "b", "start": "2099-11-27T00:00:00Z", "end": "2099-11-29T00:00:00Z", "min_size": 4, "max_size": 8}]},
     "compute_promotions"),
    ("promotion in the past", {"compute_promotions": [
        {"name": "old", "start": "2020-11-26T00:00:00Z", "end": "2020-11-28T00:00:00Z", "min_size": 4, "max_size": 8}]},
     "compute_promotions[0] (old) ended"),
    ("both scaling targets off", {"compute_target_cpu": None, "compute_target_requests_per_target": None},
     "compute_target_requests_per_target"),
]


@pytest.mark.parametrize("extra, variable", [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_refused_before_any_aws_call(emulator, extra, variable):
    emulator.reset()
    run = run_playbook(emulator, "site.yml", extra=extra, timeout=300)
    assert run.rc != 0, run.output[-3000:]
    assert variable in run.output, run.output[-3000:]
    assert emulator.calls_but_inventory() == {}


def test_protected_environment_is_not_destroyed_without_confirmation(emulator):
    emulator.reset()
    run = run_playbook(emulator, "playbooks/destroy.yml", inventory="production", timeout=300)
    assert run.rc != 0
    assert "destroy_confirm=shop-production" in run.output
    assert emulator.calls_but_inventory() == {}


@pytest.mark.parametrize("extra, variable", [
    ({"rollout_min_healthy_percentage": 120}, "rollout_min_healthy_percentage"),
    ({"rollout_min_healthy_percentage": 40, "rollout_max_healthy_percentage": 150}, "rollout_max_healthy_percentage"),
    ({"rollout_checkpoint_percentages": [60, 30]}, "rollout_checkpoint_percentages"),
    ({"rollout_ami_id": "ami-notanid"}, "rollout_ami_id"),
    ({"rollout_timeout": 10}, "rollout_timeout"),
], ids=["min healthy above 100", "max more than 100 above min", "checkpoints not ascending", "malformed AMI ID",
        "timeout too short"])
def test_rolling_update_refused_before_any_aws_call(emulator, extra, variable):
    emulator.reset()
    run = run_playbook(emulator, "playbooks/rolling_update.yml", extra=extra, timeout=300)
    assert run.rc != 0, run.output[-3000:]
    assert variable in run.output, run.output[-3000:]
    assert emulator.calls_but_inventory() == {}


@pytest.mark.parametrize("extra, message", [
    ({"cdn_static_dir": "/nonexistent/static"},
     "cdn_static_dir must be the folder of the release's static files (got '/nonexistent/static', not a folder)"),
    ({}, "The static bucket shop-local-static does not exist: build the stack first"),
], ids=["no such folder", "bucket not built yet"])
def test_the_release_step_refuses_before_uploading(emulator, extra, message):
    emulator.reset()
    run = run_playbook(emulator, "playbooks/release_static.yml", extra=extra, timeout=300)
    assert run.rc != 0 and message in run.output, run.output[-3000:]
    assert not any(call.startswith("s3:PUT") for call in emulator.calls_but_inventory())
