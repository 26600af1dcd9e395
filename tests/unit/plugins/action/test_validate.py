"""shop.aws.validate refuses naming each broken rule and only those, as a playbook run shows."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[4]


def run(tmp_path, rules, variables=None, what=None):
    """Run one shop.aws.validate task on localhost; return (rc, the task's result)."""
    task = {"name": "Check", "shop.aws.validate": {"rules": rules, **({"what": what} if what else {})}, "register": "out",
            "ignore_errors": True}
    show = {"name": "Keep", "ansible.builtin.copy": {"content": "{{ out | to_json }}", "dest": str(tmp_path / "out.json"),
                                                       "mode": "0600"}}
    play = [{"hosts": "localhost", "gather_facts": False, "vars": variables or {}, "tasks": [task, show]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           str(tmp_path / "play.yml")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert (tmp_path / "out.json").exists(), proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads((tmp_path / "out.json").read_text())


RULES = [
    {"that": "size | int >= 1", "msg": "size must be at least 1 (got {{ size }})"},
    {"that": "port | int <= 65535", "msg": "port must be 1-65535 (got {{ port }})"},
    {"that": "name is match('^[a-z]+$')", "msg": "name must be lower-case letters (got '{{ name }}')"},
]


def test_only_the_broken_rules_are_named_with_their_values(tmp_path):
    result = run(tmp_path, RULES, {"size": 3, "port": 70000, "name": "Shop!"}, what="demo")
    assert result["failed"] is True
    assert result["broken"] == ["port must be 1-65535 (got 70000)", "name must be lower-case letters (got 'Shop!')"]
    assert result["msg"] == "demo: port must be 1-65535 (got 70000). name must be lower-case letters (got 'Shop!')."
    assert "size" not in result["msg"]


def test_rules_that_hold_pass_and_change_nothing(tmp_path):
    result = run(tmp_path, RULES, {"size": 3, "port": 443, "name": "shop"})
    assert not result.get("failed") and result["changed"] is False and result["broken"] == []


def test_a_rule_applies_only_when_its_when_holds_and_its_message_is_templated_only_when_broken(tmp_path):
    rules = [{"that": "cidrs | length > 0", "msg": "cidrs must not be empty"},
             # The message would fail to template (items[5]) if it were rendered while the rule holds.
             {"that": "cidrs | length < 5", "when": "cidrs | length > 0", "msg": "too many: {{ cidrs[5] }}"}]
    assert run(tmp_path, rules, {"cidrs": []})["broken"] == ["cidrs must not be empty"]
    assert not run(tmp_path, rules, {"cidrs": ["10.0.0.0/16"]}).get("failed")


@pytest.mark.parametrize("rules, message", [
    ([{"that": "true"}], "rules[0] must be a mapping of that, msg and optionally when"),
    ([{"that": "true", "msg": "m", "fail_msg": "x"}], "rules[0] must be a mapping of that, msg and optionally when"),
    ([], "rules must be a non-empty list"),
], ids=["no msg", "unknown key", "no rules"])
def test_a_malformed_rule_is_refused_by_name(tmp_path, rules, message):
    result = run(tmp_path, rules)
    assert result["failed"] is True and message in result["msg"], result
