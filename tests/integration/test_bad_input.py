"""Bad input is refused before any AWS call, with the message of each broken rule, and only those."""

import re

import pytest
import yaml
from helpers import ROOT, run_playbook

pytestmark = pytest.mark.integration

def refusal(output):
    """The failed task's result, as the default callback prints it (YAML): {broken: [...], msg: ...}."""
    match = re.search(r"FAILED! => \n(.*?)\n\n", output, re.S)
    assert match, output[-3000:]
    return yaml.safe_load(match.group(1))


# (what a user got wrong, the settings, the refusal: each broken rule's message, and only those)
CASES = [
    ("invalid VPC CIDR", {"network_vpc_cidr": "10.0.0.0/33"},
     ["network_vpc_cidr must be an IPv4 network CIDR without host bits, like 10.20.0.0/16 (got '10.0.0.0/33')"]),
    ("VPC CIDR with host bits", {"network_vpc_cidr": "10.0.0.1/16"},
     ["network_vpc_cidr must be an IPv4 network CIDR without host bits, like 10.20.0.0/16 (got '10.0.0.1/16')"]),
    ("public VPC range", {"network_vpc_cidr": "8.8.0.0/16"},
     ["network_vpc_cidr must lie in a private range of RFC 1918 (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) unless "
      "network_allow_public_cidr is true: addresses of someone else's public range would be unreachable from the VPC "
      "(got 8.8.0.0/16)"]),
    ("VPC too small", {"network_vpc_cidr": "10.0.0.0/26"}, ["network_vpc_cidr must be a /16 to /24 network (got 10.0.0.0/26)"]),
    ("overlapping subnets", {"network_subnets": {"public": ["10.10.0.0/24", "10.10.1.0/24"],
                                                 "app": ["10.10.0.128/25", "10.10.2.0/24"],
                                                 "db": ["10.10.3.0/24", "10.10.4.0/24"]}},
     ["network_subnets must not overlap (10.10.0.0/24 overlaps 10.10.0.128/25)"]),
    ("subnet outside the VPC", {"network_subnets": {"public": ["10.10.0.0/24", "10.10.1.0/24"],
                                                    "app": ["10.99.0.0/24", "10.10.2.0/24"],
                                                    "db": ["10.10.3.0/24", "10.10.4.0/24"]}},
     ["network_subnets must lie inside network_vpc_cidr 10.10.0.0/16 (outside it are ['10.99.0.0/24'])"]),
    ("typo in an AZ", {"network_azs": ["us-east-1a", "us-east1b"]},
     ["network_azs must be AZs of aws_region us-east-1, each 'us-east-1' plus one letter (not: ['us-east1b'])"]),
    ("AZ of another region", {"network_azs": ["eu-west-1a", "eu-west-1b"]},
     ["network_azs must be AZs of aws_region us-east-1, each 'us-east-1' plus one letter (not: ['eu-west-1a', 'eu-west-1b'])"]),
    ("one AZ only", {"network_azs": ["us-east-1a"]}, ["network_azs must list 2 or 3 AZs (got ['us-east-1a'])"]),
    ("unknown NAT mode", {"network_nat_mode": "cheap"}, "value of network_nat_mode must be one of: per_az, single, got: cheap"),
    ("min above max", {"compute_min_size": 5, "compute_max_size": 3, "compute_desired_capacity": 4},
     ["compute_min_size must not be above compute_max_size 3 (got 5)"]),
    ("desired outside min..max", {"compute_desired_capacity": 9},
     ["compute_desired_capacity must lie between compute_min_size 1 and compute_max_size 3 (got 9)"]),
    ("RDS class as EC2 type", {"compute_instance_type": "db.t4g.micro"},
     ["compute_instance_type must be an EC2 type like t3.small, not an RDS or ElastiCache class (got 'db.t4g.micro')"]),
    ("CPU target of 150", {"compute_target_cpu": 150}, ["compute_target_cpu must be 10-90 percent or null (got 150)"]),
    ("two settings wrong", {"compute_target_cpu": 150, "compute_instance_warmup": 5000},
     ["compute_target_cpu must be 10-90 percent or null (got 150)", "compute_instance_warmup must be 0-3600 s (got 5000)"]),
    ("both scaling targets off", {"compute_target_cpu": None, "compute_target_requests_per_target": None},
     ["compute_target_cpu and compute_target_requests_per_target must not both be null (no policy would scale the group)"]),
    ("target port beyond 65535", {"loadbalancer_web_port": 70000},
     ["loadbalancer_web_port must be a TCP port, 1-65535 (got 70000)"]),
    ("web port beyond 65535", {"security_web_port": 70000}, ["security_web_port must be a TCP port, 1-65535 (got 70000)"]),
    ("key deletion sooner than KMS allows", {"security_key_deletion_days": 3},
     ["security_key_deletion_days must be 7-30, the waiting period KMS allows (got 3)"]),
    ("budget below its estimate", {"monitoring_budget_headroom": 0.8},
     ["monitoring_budget_headroom must be at least 1, the estimate itself (got 0.8)"]),
    ("backup retention out of range", {"database_backup_retention_days": 40},
     ["database_backup_retention_days must be 1-35 days, automated backups stay on (got 40)"]),
    ("backups turned off", {"database_backup_retention_days": 0},
     ["database_backup_retention_days must be 1-35 days, automated backups stay on (got 0)"]),
    ("non-db instance class", {"database_instance_class": "t4g.micro"},
     ["database_instance_class must be an RDS class like db.t4g.micro (got 't4g.micro')"]),
    ("backup window too short", {"database_backup_window": "02:00-02:10"},
     ["database_backup_window must be at least 30 minutes long (got '02:00-02:10', 10 minutes)"]),
    ("reserved master user", {"database_master_username": "rdsadmin"},
     ["database_master_username must not be rdsadmin, a name RDS reserves (got 'rdsadmin')"]),
    ("application account as the master, with every privilege, a master password never rotated",
     {"database_app_username": "Shop_Admin", "database_app_privileges": ["SELECT", "ALL PRIVILEGES"],
      "database_master_password_rotation_days": 0},
     ["database_app_username must not be the master user's name database_master_username: the application needs an "
      "account of its own (got 'Shop_Admin')",
      "database_app_privileges must list at least one privilege on the database, as GRANT spells them, and not ALL, GRANT "
      "OPTION or USAGE (got ['SELECT', 'ALL PRIVILEGES'])",
      "database_master_password_rotation_days must be a whole number of days from 1 to 1000 (Secrets Manager's rotation "
      "schedule; got '0')"]),
    ("performance insights on a micro class", {"database_performance_insights": True},
     ["database_performance_insights must be false on database_instance_class db.t4g.micro: Performance Insights does "
      "not support the db.t2.micro, db.t2.small, db.t3.micro, db.t3.small, db.t4g.micro, db.t4g.small classes (got true)"]),
    ("enhanced monitoring interval and audit event", {"database_monitoring_interval": 45,
                                                      "database_audit_events": ["CONNECT", "QUERIES"]},
     ["database_audit_events must be among CONNECT, QUERY, TABLE, QUERY_DDL, QUERY_DML, QUERY_DML_NO_SELECT, QUERY_DCL, "
      "the MariaDB Audit Plugin's SERVER_AUDIT_EVENTS (got QUERIES)",
      "database_monitoring_interval must be 0 (off), 1, 5, 10, 15, 30 or 60 seconds (got 45)"]),
    ("backup copy in the stack's own region", {"database_backup_copy_region": "us-east-1",
                                               "database_backup_plan_schedule": "daily"},
     ["database_backup_plan_schedule must be an AWS cron expression of six fields, like cron(0 4 * * ? *) (got 'daily')",
      "database_backup_copy_region must be another region than the stack's us-east-1: a copy in the same region does "
      "not outlive its loss (got 'us-east-1')"]),
    ("unknown log export", {"database_log_exports": ["error", "slow"]},
     "value of database_log_exports must be one or more of: audit, error, general, slowquery"),
    ("bad bucket name", {"cdn_bucket_name": "Shop_Static"},
     ["cdn_bucket_name must be a valid S3 bucket name, 3-63 lower-case letters, digits, dots or dashes, starting and "
      "ending with a letter or digit, no '..', not an IP address (got 'Shop_Static')"]),
    ("aliases without certificate", {"cdn_aliases": ["shop.example.com"]},
     ["cdn_aliases ['shop.example.com'] need cdn_certificate_arn, an ACM certificate for them (it is empty)"]),
    ("certificate outside us-east-1", {"cdn_aliases": ["shop.example.com"],
                                       "cdn_certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc-123"},
     ["cdn_certificate_arn must be the ARN of an ACM certificate in us-east-1, as CloudFront requires "
      "(got 'arn:aws:acm:eu-west-1:123456789012:certificate/abc-123')"]),
    ("bad ALB certificate", {"loadbalancer_certificate_arn": "my-cert"},
     ["loadbalancer_certificate_arn must be empty or an ACM certificate ARN (got 'my-cert')"]),
    ("WAF rule neither block nor count", {"cdn_waf_actions": {"ip-reputation": "block", "common": "block", "known-bad-inputs": "block",
                                                              "sql-injection": "deny", "rate-limit": "block"}},
     ["cdn_waf_actions must say block or count for each rule (got {'ip-reputation': 'block', 'common': 'block', "
      "'known-bad-inputs': 'block', 'sql-injection': 'deny', 'rate-limit': 'block'})"]),
    ("WAF rate limit below what AWS takes", {"cdn_waf_rate_limit": 5},
     ["cdn_waf_rate_limit must be 10-2000000000 requests per 5 minutes (got 5)"]),
    ("HTTPS to the ALB without a name on its certificate", {"cdn_alb_origin_protocol": "https-only"},
     ["cdn_alb_origin_domain must name the ALB as its certificate does (e.g. origin.shop.example.com, a DNS record pointing "
      "at the ALB) when cdn_alb_origin_protocol is https-only: CloudFront refuses a certificate that does not match the "
      "origin's name, and the ALB's own DNS name is on none (it is empty)"]),
    ("bad alert address", {"monitoring_alert_emails": ["ops-at-example.com"]},
     ["monitoring_alert_emails must be email addresses (not ['ops-at-example.com'])"]),
    ("log retention CloudWatch refuses", {"monitoring_log_retention_days": 10},
     ["monitoring_log_retention_days must be one of [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, "
      "1827, 2192, 2557, 2922, 3288, 3653] (got 10)"]),
    ("cache class as node type", {"cache_node_type": "t4g.micro"},
     ["cache_node_type must be an ElastiCache node type like cache.t4g.micro (got 't4g.micro')"]),
    ("seven cache nodes", {"cache_nodes": 7}, ["cache_nodes must be 1-6, a primary and up to five replicas (got 7)"]),
    ("cache snapshot window in local time", {"cache_snapshot_window": "3am-4am", "cache_snapshot_retention_days": 40},
     ["cache_snapshot_retention_days must be 0-35 (got 40)",
      "cache_snapshot_window must be hh24:mi-hh24:mi in UTC, like 03:00-04:00 (got '3am-4am')"]),
    ("unknown Redis eviction policy", {"cache_parameters": {"maxmemory-policy": "lru"}},
     ["cache_parameters maxmemory-policy must be one of Redis's eviction policies (volatile-lru, allkeys-lru, "
      "volatile-lfu, allkeys-lfu, volatile-random, allkeys-random, volatile-ttl, noeviction) (got 'lru')"]),
    ("queue retention out of range", {"messaging_retention_seconds": 30},
     ["messaging_retention_seconds must be 60-1209600 s (got 30)"]),
    ("bad environment name", {"stack_environment": "Prod!"},
     ["stack_environment must be 2-16 lower-case letters, digits or dashes, starting with a letter (got 'Prod!')"]),
    ("overlapping promotions", {"compute_promotions": [
        {"name": "a", "start": "2099-11-26T00:00:00Z", "end": "2099-11-28T00:00:00Z", "min_size": 4, "max_size": 8},
        {"name": "b", "start": "2099-11-27T00:00:00Z", "end": "2099-11-29T00:00:00Z", "min_size": 4, "max_size": 8}]},
     "compute_promotions: promotions a (to 2099-11-28T00:00Z) and b (scale-out at 2099-11-26T23:30Z) overlap"),
    ("promotion in the past", {"compute_promotions": [
        {"name": "old", "start": "2020-11-26T00:00:00Z", "end": "2020-11-28T00:00:00Z", "min_size": 4, "max_size": 8}]},
     "compute_promotions[0] (old) ended"),
]


@pytest.mark.parametrize("extra, expected", [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_refused_before_any_aws_call_naming_only_the_broken_rules(emulator, extra, expected):
    emulator.reset()
    run = run_playbook(emulator, "site.yml", extra=extra, timeout=300)
    assert run.rc != 0, run.output[-3000:]
    if isinstance(expected, list):
        assert refusal(run.output)["broken"] == expected
    else:
        assert expected in " ".join(run.output.split()), run.output[-3000:]
    assert emulator.calls_but_inventory() == {}


def test_a_build_without_a_baked_image_stops_before_any_change_and_says_what_to_run(emulator):
    emulator.reset()
    run = run_playbook(emulator, "site.yml", inventory="production", timeout=300)
    assert run.rc != 0, run.output[-3000:]
    assert refusal(run.output)["broken"] == [
        "compute_ami_ssm_parameter /shop-production/web/ami-id does not exist yet: the stack has no web image to boot. "
        f"Bake one first (ansible-playbook playbooks/bake_ami.yml -i {ROOT}/inventories/production), or set compute_ami_id "
        "to an existing AMI. Nothing was changed"]
    assert [call for call in emulator.calls_but_inventory() if not call.split(":")[1].startswith(("Get", "Describe"))] == []


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
