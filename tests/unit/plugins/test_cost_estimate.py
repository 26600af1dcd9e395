"""The monthly cost estimate (plugins/module_utils/cost_estimate.py) on hand-computed cases."""

import pytest
import yaml
from conftest import ROOT, load

cost = load("plugins/module_utils/cost_estimate.py")

PRICES = yaml.safe_load((ROOT / "playbooks/vars/aws_prices.yml").read_text())["aws_prices"]
STACK = {"azs": 3, "nat_mode": "per_az", "instance_type": "c6i.large", "root_volume_gib": 16, "detailed_monitoring": True,
         "db_class": "db.r6g.large", "db_multi_az": True, "db_storage_gib": 200, "db_backup_days": 14,
         "cache_enabled": True, "cache_node_type": "cache.r6g.large", "messaging_enabled": False,
         "flow_logs_enabled": False, "log_retention_days": 30, "alarms": 12}
TRAFFIC = {"hourly_rps": [0] * 24, "instance_rps": 60, "ready_minutes": 5}
EC2 = {"instance_hours": 2190.0, "average_instances": 3.0, "peak_instances": 3, "requests_at_risk": 0}


def line(result, component, start):
    return next(x for x in result["lines"] if x["component"] == component and x["item"].startswith(start))


def test_every_region_prices_the_same_things_with_a_source_and_a_date():
    keys = {region: set(prices) for region, prices in PRICES.items()}
    assert len(keys) >= 2 and len({frozenset(k) for k in keys.values()}) == 1
    for region, prices in PRICES.items():
        for key, entry in prices.items():
            assert entry.get("source", "").startswith("https://aws.amazon.com/"), (region, key)
            assert entry.get("as_of"), (region, key)


def test_hand_computed_lines():
    prices = PRICES["eu-west-1"]
    result = cost.estimate(STACK, TRAFFIC, prices, EC2)
    assert line(result, "EC2", "web instances")["monthly"] == round(2190 * 0.096, 2)
    assert line(result, "NAT Gateway", "3 gateway")["quantity"] == 3 * 730
    # Multi-AZ: the instance and its storage twice.
    assert line(result, "RDS MySQL", "db.r6g.large")["monthly"] == round(2 * 730 * 0.25, 2)
    assert line(result, "RDS MySQL", "gp3 storage")["quantity"] == 400
    assert line(result, "Public IPv4", "3 NAT")["quantity"] == (3 + 3) * 730
    assert line(result, "ElastiCache", "1 x cache.r6g.large")["monthly"] == round(730 * 0.228, 2)
    assert not any(x["component"] == "SQS/SNS" for x in result["lines"])
    assert result["total"] == round(sum(x["monthly"] for x in result["lines"]), 2)


def test_single_nat_and_backups_beyond_the_free_storage():
    stack = dict(STACK, nat_mode="single", db_multi_az=False, db_storage_gib=50, db_backup_days=10)
    traffic = dict(TRAFFIC, db_used_gib=40, db_daily_change_gib=2)
    result = cost.estimate(stack, traffic, PRICES["us-east-1"], EC2)
    assert line(result, "NAT Gateway", "1 gateway")["quantity"] == 730
    # 40 GiB full + 10 days x 2 GiB = 60 GiB of backups, 50 free (100 % of the storage).
    assert line(result, "RDS MySQL", "backups")["quantity"] == 10


def test_aws_backup_its_copies_performance_insights_and_enhanced_monitoring():
    stack = dict(STACK, db_backup_plan_days=35, db_backup_copy_region="eu-central-1", db_backup_copy_days=14,
                 db_performance_insights_days=7, db_monitoring_interval=60)
    traffic = dict(TRAFFIC, db_used_gib=80, db_daily_change_gib=3, db_os_metrics_kib_per_sample=10)
    result = cost.estimate(stack, traffic, PRICES["eu-west-1"], EC2)
    # The first point holds the data, each later one a day's changes.
    assert line(result, "AWS Backup", "daily recovery points")["quantity"] == 80 + 3 * 35
    assert line(result, "AWS Backup", "their copies in eu-central-1")["quantity"] == 80 + 3 * 14
    assert line(result, "AWS Backup", "data transfer")["monthly"] == round(3 * 730 / 24 * 0.02, 2)
    assert line(result, "RDS MySQL", "Performance Insights")["monthly"] == 0
    # 43,800 samples of 10 KiB: 0.418 GiB.
    assert line(result, "RDS MySQL", "Enhanced Monitoring")["quantity"] == pytest.approx(730 * 60 * 10 / 1024 / 1024, abs=1e-3)
    # Without a plan or a copy region: no such lines; a longer history of Performance Insights
    # needs its price, which the file does not have.
    bare = cost.estimate(dict(STACK), traffic, PRICES["eu-west-1"], EC2)
    assert not any(x["component"] == "AWS Backup" for x in bare["lines"])
    with pytest.raises(cost.PriceError, match="rds_performance_insights_long_term_month"):
        cost.estimate(dict(stack, db_performance_insights_days=31), traffic, PRICES["eu-west-1"], EC2)


def test_cloudfront_transfer_is_priced_by_tier():
    # 15 TB a month: 10 TB at the first tier's price, 5 TB at the second's.
    gib_per_month = 15 * 1024
    rps = gib_per_month * 1024 * 1024 / 30 / (3600 * 730)  # response_kib 30
    traffic = dict(TRAFFIC, hourly_rps=[rps] * 24, response_kib=30)
    result = cost.estimate(STACK, traffic, PRICES["us-east-1"], EC2)
    tiers = [x for x in result["lines"] if x["component"] == "CloudFront" and "data transfer" in x["item"]]
    assert [round(x["quantity"]) for x in tiers] == [10240, 5120]
    assert [x["unit_price"] for x in tiers] == [0.085, 0.080]


def test_alb_capacity_units_follow_the_processed_bytes():
    # 1 GB an hour is one LCU: rps x 3600 x (30 + 2) KiB = 1 GiB.
    rps = 1024 * 1024 / 3600 / 32
    assert cost.alb_lcu_hours(dict(TRAFFIC, hourly_rps=[rps] * 24, response_kib=30)) == pytest.approx(730)


def test_a_type_without_a_price_names_the_variable():
    with pytest.raises(cost.PriceError, match="compute_instance_type 'm7i.large' has no price"):
        cost.estimate(dict(STACK, instance_type="m7i.large"), TRAFFIC, PRICES["eu-west-1"], EC2)
