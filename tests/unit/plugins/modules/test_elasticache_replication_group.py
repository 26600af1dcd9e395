"""The replication group module's plan entry (plugins/modules/elasticache_replication_group.py)."""

import pytest


@pytest.fixture(scope="module")
def mod(plugin):
    return plugin("plugins/modules/elasticache_replication_group.py")


def test_a_node_type_change_is_flagged_downtime_applied_now(mod):
    entry = mod.plan_entry("shop-redis", "change", {"node_type": "cache.t4g.micro", "snapshot_window": "03:00-04:00"},
                           {"node_type": "cache.t4g.small", "snapshot_window": "03:00-04:00"})
    assert entry["attributes"] == {"node_type": {"before": "cache.t4g.micro", "after": "cache.t4g.small"}}
    assert entry["downtime"] is True and entry["applies"] == "now" and "seconds" in entry["note"]


def test_an_engine_upgrade_is_downtime_and_a_window_change_is_not(mod):
    assert mod.plan_entry("g", "change", {"engine_version": "7.0"}, {"engine_version": "7.1"})["downtime"] is True
    entry = mod.plan_entry("g", "change", {"maintenance_window": "sun:05:00-sun:06:00"}, {"maintenance_window": "mon:05:00-mon:06:00"})
    assert "downtime" not in entry and entry["action"] == "change"


def test_a_new_group_is_an_add_with_every_setting(mod):
    entry = mod.plan_entry("g", "add", {}, {"node_type": "cache.t4g.micro", "port": 6379})
    assert entry["action"] == "add" and "downtime" not in entry
    assert entry["attributes"]["port"] == {"before": None, "after": 6379}
