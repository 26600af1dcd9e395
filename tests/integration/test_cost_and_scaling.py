"""The cost report and the scaling simulation, run as a user would, on the three inventories
(no AWS call: both are pure computation on the declared stack)."""

import json
import os
import subprocess

import pytest
from helpers import ROOT, VENV_BIN

pytestmark = pytest.mark.integration
PNG = b"\x89PNG\r\n\x1a\n"


def playbook(name, inventory, **extra):
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", PATH=f"{VENV_BIN}:{os.environ['PATH']}")
    proc = subprocess.run([str(VENV_BIN / "ansible-playbook"), f"playbooks/{name}", "-i", f"inventories/{inventory}/hosts.yml",
                           "-e", json.dumps(extra)], cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def costs(tmp_path_factory):
    out = tmp_path_factory.mktemp("cost")
    found = {}
    for env in ("local", "staging", "production"):
        rc, output = playbook("cost_report.yml", env, cost_report_dir=str(out))
        assert rc == 0, output[-3000:]
        found[env] = json.loads((out / f"shop-{env}.json").read_text())
        assert (out / f"shop-{env}.md").read_text().startswith(f"# shop-{env}: monthly cost estimate")
    return found


def test_every_environment_is_priced_component_by_component(costs):
    for env, report in costs.items():
        components = set(report["components"])
        assert {"EC2", "NAT Gateway", "ALB", "RDS MySQL", "S3", "CloudFront", "CloudWatch"} <= components, env
        assert report["total"] == pytest.approx(sum(line["monthly"] for line in report["lines"]), abs=0.05)
    assert costs["local"]["total"] < costs["staging"]["total"] < costs["production"]["total"]


def test_production_follows_its_declaration(costs):
    lines = {(x["component"], x["item"].split(" (")[0]): x for x in costs["production"]["lines"]}
    # eu-west-1: 3 NAT Gateways (per_az), a Multi-AZ db.r6g.large (billed twice), 200 GiB gp3 twice.
    assert lines[("NAT Gateway", "3 gateway(s), per_az")]["quantity"] == 3 * 730
    assert lines[("RDS MySQL", "db.r6g.large")]["quantity"] == 2 * 730
    assert lines[("RDS MySQL", "gp3 storage 200 GiB x 2")]["quantity"] == 400
    # The session store's primary and its replica in another AZ.
    cache = lines[("ElastiCache", "2 x cache.r6g.large")]
    assert (cache["quantity"], cache["unit_price"]) == (2 * 730, 0.228)
    assert next(x for x in costs["staging"]["lines"] if x["component"] == "ElastiCache")["quantity"] == 730
    # The quiet month never drops under the group's minimum of 3.
    assert costs["production"]["ec2"]["average_instances"] >= 3
    # Staging shares one NAT Gateway; local is priced in us-east-1.
    assert any(x["item"].startswith("1 gateway(s), single") for x in costs["staging"]["lines"])
    assert next(x for x in costs["local"]["lines"] if x["component"] == "ALB" and x["unit"] == "hour")["unit_price"] == 0.0225


@pytest.fixture(scope="module")
def spike(tmp_path_factory):
    """Production's scaling simulation, as the playbook writes it: the folder of its reports."""
    out = tmp_path_factory.mktemp("scaling")
    rc, output = playbook("scaling_simulation.yml", "production", scaling_report_dir=str(out))
    assert rc == 0, output[-3000:]
    return out


def test_production_survives_a_10x_spike_only_with_the_schedule(spike):
    report = json.loads((spike / "shop-production.json").read_text())
    fixed, tracking, scheduled = (report["strategies"][name] for name in
                                  ("peak-sized fleet", "target tracking", "target tracking + promotion schedule"))
    assert report["inputs"]["spike"]["multiplier"] == 10
    assert fixed["requests_at_risk"] == 0 and fixed["peak_instances"] == fixed["min_instances"]
    assert tracking["requests_at_risk"] > 0 and scheduled["requests_at_risk"] == 0
    assert scheduled["ec2_cost"] < fixed["ec2_cost"] and tracking["ec2_cost"] < fixed["ec2_cost"]
    assert (spike / "shop-production.png").read_bytes()[:8] == PNG
    assert "| target tracking + promotion schedule | 0 |" in (spike / "shop-production.md").read_text()


def test_the_command_gives_the_playbooks_figures(tmp_path):
    rc, _ = playbook("scaling_simulation.yml", "production", scaling_report_dir=str(tmp_path / "playbook"),
                     spike_multiplier=20)
    assert rc == 0
    proc = subprocess.run([str(VENV_BIN / "python"), "scripts/simulate_scaling.py", "-i", "inventories/production",
                           "--multiplier", "20", "--out", str(tmp_path / "command")], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    by_playbook = json.loads((tmp_path / "playbook/shop-production.json").read_text())
    by_command = json.loads((tmp_path / "command/shop-production.json").read_text())
    assert by_command["strategies"] == by_playbook["strategies"]
    assert by_command["inputs"] == by_playbook["inputs"] and by_command["inputs"]["spike"]["multiplier"] == 20
    assert "| peak-sized fleet |" in proc.stdout


def test_bad_inputs_are_refused_with_the_variable_named(tmp_path):
    rc, output = playbook("scaling_simulation.yml", "production", scaling_report_dir=str(tmp_path),
                          traffic_profile={"hourly_rps": [1] * 23, "instance_rps": 60, "ready_minutes": 5,
                                           "promotion_spike": {"multiplier": 10}})
    assert rc != 0 and "hourly_rps must be 24 numbers" in output
    rc, output = playbook("cost_report.yml", "production", cost_report_dir=str(tmp_path), compute_instance_type="m7i.large")
    assert rc != 0 and "compute_instance_type 'm7i.large' has no price" in output
    rc, output = playbook("cost_report.yml", "staging", cost_report_dir=str(tmp_path), compute_min_size=9)
    assert rc != 0 and "compute_min_size" in output
    assert list(tmp_path.iterdir()) == []


def test_the_reports_in_the_docs_are_up_to_date(costs, spike):
    """docs/cost-and-scaling.md shows docs/reports/: regenerate them (scripts/cost_docs.sh) when an
    inventory, a price or the model changes."""
    for env, report in costs.items():
        assert json.loads((ROOT / f"docs/reports/cost/shop-{env}.json").read_text()) == report, \
            f"docs/reports/cost/shop-{env}.json is out of date: run scripts/cost_docs.sh"
    fresh = json.loads((spike / "shop-production.json").read_text())
    assert json.loads((ROOT / "docs/reports/scaling/shop-production.json").read_text()) == fresh, \
        "docs/reports/scaling/shop-production.json is out of date: run scripts/cost_docs.sh"
