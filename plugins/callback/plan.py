# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: plan
type: aggregate
short_description: The run's changes as a plan - each resource added, changed, replaced or destroyed, with its attributes
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - Collects every task result that changed (or, in check mode, would change) something and
    prints a summary after the play recap - "Plan - 2 to add, 1 to change, 0 to replace,
    0 to destroy" in check mode, "Applied - 2 added, 1 changed, 0 replaced, 0 destroyed" otherwise -
    then one line a resource with its changed attributes, before -> after (the values with
    --diff only, as Ansible shows diffs; the attributes' names otherwise). The project's
    ansible.cfg enables it for every run; a run that changed no AWS resource prints nothing, and
    nothing is printed after a machine-readable stdout callback (json, junit...).
  - A task's own prediction wins - a result key C(shop_plan) (a dict or a list of dicts with
    C(action) add/change/replace/destroy, C(resource), C(name), C(attributes) as
    C({attribute - {before, after}}), C(downtime), C(applies)) that the toolkit's roles set through
    M(shop.aws.plan_change).
    Otherwise the result's diff decides (no before - add; no after, or state absent - destroy;
    else change, its attributes the keys whose values differ), and a changed result without a
    diff is listed as a change "the module reports no detail", unless a prediction of the same
    resource says what changes.
  - AWS resources (modules of amazon.aws, community.aws, shop.aws) are the plan; other changes
    (files on a host, packages) are counted apart.
  - With O(plan_dir) the plan is written there as C(plan.json) and C(plan.md), to attach to a
    change request; C(scripts/plan.sh) runs a check with it and exits 2 when changes are pending.
requirements:
  - enabled in callbacks_enabled (or ANSIBLE_CALLBACKS_ENABLED)
options:
  plan_dir:
    description: Folder the plan is written to as plan.json and plan.md (nothing written when unset).
    type: path
    env:
      - name: SHOP_PLAN_DIR
    ini:
      - section: callback_plan
        key: plan_dir
"""

import json
import os

from ansible import constants as C
from ansible import context
from ansible.plugins.callback import CallbackBase

# Stdout callbacks whose output programs parse: the plan is not printed after theirs.
MACHINE_READABLE = ("json", "jsonl", "junit", "tree")

AWS_COLLECTIONS = ("amazon.aws.", "community.aws.", "shop.aws.")
ACTIONS = ("add", "change", "replace", "destroy")
HIDDEN = "output hidden (no_log)"
NAME_KEYS = ("name", "id", "identifier", "db_instance_identifier", "replication_group_id", "bucket", "group_name",
             "log_group_name", "alarm_name", "option_group_name", "backup_plan_name", "backup_vault_name",
             "selection_name", "alias", "distribution_id", "vpc_endpoint_id", "nat_gateway_id", "route_table_id",
             "group_id", "key_id", "allocation_id", "public_ip", "arn", "key")
# After those, the Name tag, then what locates a network resource.
FALLBACK_KEYS = ("cidr", "cidr_block", "vpc_id")


def resource_name(arguments: dict, task_name: str) -> str:
    for key in NAME_KEYS:
        if arguments.get(key):
            return str(arguments[key])
    tags = arguments.get("tags") or arguments.get("resource_tags")
    if isinstance(tags, dict) and tags.get("Name"):
        return str(tags["Name"])
    return next((str(arguments[key]) for key in FALLBACK_KEYS if arguments.get(key)), task_name)


def _empty(side) -> bool:
    return side in (None, "", {}, [], "absent") or (isinstance(side, dict) and side.get("state") == "absent"
                                                    and len(side) == 1)


def _attributes(before, after) -> dict:
    """The attributes that differ, before -> after (dicts: by key, one level down)."""
    if isinstance(before, dict) and isinstance(after, dict):
        return {key: {"before": before.get(key), "after": after.get(key)}
                for key in sorted(set(before) | set(after), key=str) if before.get(key) != after.get(key)}
    if before != after:
        return {"content": {"before": before, "after": after}}
    return {}


def from_diff(diff) -> tuple[str, dict] | None:
    """A change's action and attributes from a module's diff (a dict, or a list of them)."""
    diffs = diff if isinstance(diff, list) else [diff]
    diffs = [d for d in diffs if isinstance(d, dict) and ("before" in d or "after" in d)]
    if not diffs:
        return None
    before = [d.get("before") for d in diffs]
    after = [d.get("after") for d in diffs]
    if all(_empty(b) for b in before) and not all(_empty(a) for a in after):
        action = "add"
    elif all(_empty(a) for a in after) and not all(_empty(b) for b in before):
        action = "destroy"
    else:
        action = "change"
    attributes = {}
    for one_before, one_after in zip(before, after, strict=True):
        attributes.update(_attributes(one_before, one_after))
    return action, attributes


def entries(action_name: str, task_name: str, result: dict) -> list[dict]:
    """The plan's entries of one task result (a loop's items each count)."""
    if "results" in result and isinstance(result["results"], list):
        found = []
        for item in result["results"]:
            if isinstance(item, dict):
                found.extend(entries(action_name, task_name, item))
        return found
    if result.get("ansible_job_id") and result.get("started") and not result.get("finished"):
        return []  # an async task started: its async_status result says what it did
    predicted = result.get("shop_plan")
    if predicted:
        planned = predicted if isinstance(predicted, list) else [predicted]
        return [{"resource": action_name, "task": task_name, **entry} for entry in planned
                if isinstance(entry, dict) and entry.get("action") in ACTIONS]
    if not result.get("changed"):
        return []
    arguments = (result.get("invocation") or {}).get("module_args") or {}
    name = resource_name(arguments, task_name)
    entry = {"resource": action_name, "task": task_name, "name": name}
    if result.get("censored"):
        return [dict(entry, action="change", attributes={}, note=HIDDEN)]
    derived = from_diff(result.get("diff"))
    if derived is None:
        if arguments.get("state") == "absent":
            return [dict(entry, action="destroy", attributes={})]  # a deletion needs no detail
        return [dict(entry, action="change", attributes={}, note="the module reports no detail")]
    action, attributes = derived
    diff = result.get("diff")
    before = next((d.get("before") for d in (diff if isinstance(diff, list) else [diff]) if isinstance(d, dict)), None)
    if isinstance(before, dict) and (name == task_name or action == "destroy"):
        # A resource deleted by its ID (a security group) is named as its diff's before names it.
        entry["name"] = resource_name(before, name)
    # What a resource to destroy held is its whole before, not a change to read attribute by attribute.
    return [dict(entry, action=action, attributes={} if action == "destroy" else attributes)]


def resource_key(entry: dict) -> tuple:
    """A resource: its module and its name."""
    return entry["resource"], entry.get("name")


def settle(resources: list[dict]) -> list[dict]:
    """The plan's entries, one a resource and action: a change "without detail" left out where a
    prediction of the same resource says what changes (a role predicts what its module cannot
    tell); a resource's changes left out where the run destroys it (a security group emptied
    before its deletion); the same resource and action reported twice (a deletion started, then
    awaited) merged."""
    detailed = {resource_key(entry) for entry in resources if entry.get("note") != "the module reports no detail"}
    predicted = {entry["resource"] for entry in resources
                 if not (entry.get("note") or "").startswith(("the module", "output hidden"))}
    destroyed = {resource_key(entry) for entry in resources if entry["action"] == "destroy"}
    settled: dict[tuple, dict] = {}
    for entry in resources:
        if entry.get("note") == "the module reports no detail" and resource_key(entry) in detailed:
            continue
        # A result hidden by no_log does not even name its resource: a prediction of that module's does.
        if entry.get("note") == HIDDEN and entry["resource"] in predicted:
            continue
        if entry["action"] == "change" and resource_key(entry) in destroyed:
            continue
        found = settled.get(resource_key(entry) + (entry["action"],))
        if found is None:
            settled[resource_key(entry) + (entry["action"],)] = dict(entry)
        else:
            found["attributes"] = {**(found.get("attributes") or {}), **(entry.get("attributes") or {})}
    return list(settled.values())


PAST = {"add": "added", "change": "changed", "replace": "replaced", "destroy": "destroyed"}


def summary_line(counts: dict, check_mode: bool = True) -> str:
    """Terraform's words: what a check run would do, what a run did."""
    if check_mode:
        return "Plan: " + ", ".join(f"{counts[action]} to {action}" for action in ACTIONS)
    return "Applied: " + ", ".join(f"{counts[action]} {PAST[action]}" for action in ACTIONS)


def _value(value) -> str:
    text = json.dumps(value, sort_keys=True, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 80 else text[:77] + "..."


def describe(entry: dict) -> str:
    flags = [f for f in (("replacement" if entry["action"] == "replace" else ""),
                         (f"downtime ({entry.get('applies', 'now')})" if entry.get("downtime") else "")) if f]
    head = f"{entry['action']:8} {entry['resource']} {entry.get('name', '')}".rstrip()
    if flags:
        head += f" [{', '.join(flags)}]"
    details = [key if change is None else f"{key}: {_value(change.get('before'))} -> {_value(change.get('after'))}"
               for key, change in (entry.get("attributes") or {}).items()]
    if entry.get("note"):
        details.append(entry["note"])
    return head + (f" ({'; '.join(details)})" if details else "")


def markdown(plan: dict) -> str:
    lines = [f"# {plan['summary']}", "", f"Check mode: {'yes' if plan['check_mode'] else 'no'}; "
             f"other changes (not AWS resources): {plan['other_changes']}.", ""]
    if plan["resources"]:
        lines += ["| action | resource | name | attributes (before -> after) | flags |", "|---|---|---|---|---|"]
        for entry in plan["resources"]:
            attributes = "<br>".join([f"`{key}`" if change is None else
                                      f"`{key}`: {_value(change.get('before'))} -> {_value(change.get('after'))}"
                                      for key, change in (entry.get("attributes") or {}).items()]
                                     + ([entry["note"]] if entry.get("note") else []))
            flags = ", ".join(f for f in (("replacement" if entry["action"] == "replace" else ""),
                                          (f"downtime ({entry.get('applies', 'now')})" if entry.get("downtime") else "")) if f)
            lines.append(f"| {entry['action']} | {entry['resource']} | {entry.get('name', '')} | "
                         f"{attributes.replace('|', '&#124;')} | {flags} |")
    else:
        lines.append("No AWS resource changes.")
    return "\n".join(lines) + "\n"


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "shop.aws.plan"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.resources: list[dict] = []
        self.other_changes = 0
        self.check_mode = False

    def v2_playbook_on_play_start(self, play):
        # The run's --check, or a play set to check mode; not a task forced to check mode in a
        # run that changes things (its result is a read, not the run's plan).
        self.check_mode = (self.check_mode or bool(context.CLIARGS.get("check"))
                           or bool(getattr(play, "check_mode", False)))

    def v2_runner_on_ok(self, result) -> None:
        task = result.task
        action = task.action or ""
        found = entries(action, task.get_name(), result.result)
        if not task.diff:
            # Values are shown as Ansible shows diffs: with --diff only; without it, the names.
            for entry in found:
                entry["attributes"] = {key: None for key in entry.get("attributes") or {}}
        # A module's own entries count wherever they come from (async_status passes them on).
        if action.startswith(AWS_COLLECTIONS) or result.result.get("shop_plan"):
            self.resources.extend(found)
        elif result.result.get("changed"):
            self.other_changes += 1

    def v2_playbook_on_stats(self, stats) -> None:
        self.resources = settle(self.resources)
        counts = {action: sum(1 for e in self.resources if e["action"] == action) for action in ACTIONS}
        plan = {"summary": summary_line(counts, self.check_mode), "counts": counts, "check_mode": self.check_mode,
                "resources": self.resources, "other_changes": self.other_changes}
        stdout = str(C.config.get_config_value("DEFAULT_STDOUT_CALLBACK") or "").rsplit(".", 1)[-1]
        # A check run always shows its plan; a run shows what it changed, when it changed AWS resources.
        if stdout not in MACHINE_READABLE and (self.check_mode or self.resources):
            others = (f" ({self.other_changes} other change(s), not AWS resources: files or packages on hosts)"
                      if self.other_changes else "")
            self._display.display("\n" + plan["summary"] + others)
            for entry in self.resources:
                self._display.display("  " + describe(entry))
        folder = self.get_option("plan_dir")
        if folder:
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, "plan.json"), "w", encoding="utf-8") as stream:
                json.dump(plan, stream, indent=2, sort_keys=True, default=str)
            with open(os.path.join(folder, "plan.md"), "w", encoding="utf-8") as stream:
                stream.write(markdown(plan))
