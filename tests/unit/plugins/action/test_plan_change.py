"""shop.aws.plan_change reports a role's prediction, and the plan callback sums it up."""

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[4]


def test_a_prediction_becomes_the_plans_entry_and_an_unchanged_one_stays_out(tmp_path):
    tasks = [
        {"name": "Group", "shop.aws.plan_change": {"resource": "amazon.aws.autoscaling_group", "name": "shop-web",
                                                    "attributes": {"max_size": [3, 5], "min_size": [1, 1]}}},
        {"name": "Database", "shop.aws.plan_change": {"resource": "amazon.aws.rds_instance", "name": "shop-db",
                                                       "attributes": {"db_instance_class": {"before": "db.t4g.medium",
                                                                                            "after": "db.r6g.large"}},
                                                       "downtime": True, "applies": "maintenance window"}},
        {"name": "Alarm", "shop.aws.plan_change": {"resource": "amazon.aws.cloudwatch_metric_alarm", "name": "a",
                                                    "attributes": {"threshold": [80, 80]}}},
    ]
    (tmp_path / "play.yml").write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]))
    env = dict(os.environ, ANSIBLE_CALLBACKS_ENABLED="shop.aws.plan", SHOP_PLAN_DIR=str(tmp_path / "plan"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local", "--check",
                           "--diff", str(tmp_path / "play.yml")], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    plan = json.loads((tmp_path / "plan" / "plan.json").read_text())
    assert plan["counts"] == {"add": 0, "change": 2, "replace": 0, "destroy": 0}
    assert [(e["name"], e["attributes"]) for e in plan["resources"]] == [
        ("shop-web", {"max_size": {"before": 3, "after": 5}}),
        ("shop-db", {"db_instance_class": {"before": "db.t4g.medium", "after": "db.r6g.large"}})]
    assert "change   amazon.aws.rds_instance shop-db [downtime (maintenance window)] " \
           "(db_instance_class: db.t4g.medium -> db.r6g.large)" in proc.stdout
    assert "Plan: 0 to add, 2 to change, 0 to replace, 0 to destroy" in proc.stdout
