# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A role's prediction of a change to an AWS resource, where the module that makes the change
gives no usable diff in check mode: reported as a diff (--diff) and as the result key
shop_plan, which the shop.aws.plan callback sums up. Runs on the controller; changes nothing."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

ACTIONS = ("add", "change", "replace", "destroy")
OPTIONS = {"resource", "name", "action", "attributes", "downtime", "applies", "note"}


class ActionModule(ActionBase):
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = self._task.args
        unknown = sorted(set(args) - OPTIONS)
        if unknown:
            return {"failed": True, "msg": f"shop.aws.plan_change: unknown option(s) {unknown}; it takes {sorted(OPTIONS)}."}
        action = args.get("action", "change")
        if action not in ACTIONS:
            return {"failed": True, "msg": f"shop.aws.plan_change: action must be one of {list(ACTIONS)} (got {action!r})"}
        if not args.get("resource") or not args.get("name"):
            return {"failed": True, "msg": "shop.aws.plan_change: resource and name are required"}
        attributes = {}
        for key, pair in (args.get("attributes") or {}).items():
            before, after = (pair.get("before"), pair.get("after")) if isinstance(pair, dict) else pair
            if before != after:
                attributes[key] = {"before": before, "after": after}
        changed = bool(attributes) if action == "change" else True
        entry = {"action": action, "resource": args["resource"], "name": args["name"], "attributes": attributes}
        if args.get("downtime"):
            entry.update(downtime=True, applies=args.get("applies") or "now")
        if args.get("note"):
            entry["note"] = args["note"]
        lines = [f"{key}: {change['before']} -> {change['after']}" for key, change in attributes.items()]
        result.update(
            changed=changed,
            shop_plan=entry if changed else None,
            diff={"before": {k: c["before"] for k, c in attributes.items()}, "after": {k: c["after"] for k, c in attributes.items()}},
            msg=(f"{action} {args['resource']} {args['name']}: {'; '.join(lines) or 'as a whole'}" if changed
                 else f"{args['resource']} {args['name']} matches its settings"),
        )
        return result
