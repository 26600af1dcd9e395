# Copyright: the shop.aws authors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check a list of rules and refuse with the message of each broken one, and only those.

ansible.builtin.assert stops at the first false condition and prints one message for the
whole group, so a user who broke one rule reads every rule of the group. Here each rule
carries its own message, templated only when that rule is broken (a message may then use
values that only make sense once the rule is known to fail).
"""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase

RULE_KEYS = {"that", "msg", "when"}


class ActionModule(ActionBase):
    """Evaluate every rule; fail naming the broken ones."""

    _requires_connection = False

    @classmethod
    def finalize_task_arg(cls, name: str, value: t.Any, templar: t.Any, context: t.Any) -> t.Any:
        # The rules are evaluated one by one in run(): a rule's message must not be templated
        # before its condition is known to be false.
        if name == "rules":
            return value
        return super().finalize_task_arg(name, value, templar, context)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        rules = self._task.args.get("rules")
        unknown = set(self._task.args) - {"rules", "what"}
        if unknown:
            return {"failed": True, "msg": f"shop.aws.validate: unknown option(s) {sorted(unknown)}; it takes rules and what."}
        if not isinstance(rules, list) or not rules:
            return {"failed": True, "msg": "shop.aws.validate: rules must be a non-empty list of {that, msg} mappings."}
        broken = []
        for index, rule in enumerate(rules):
            if not isinstance(rule, dict) or not {"that", "msg"} <= set(rule) or set(rule) - RULE_KEYS:
                return {"failed": True,
                        "msg": f"shop.aws.validate: rules[{index}] must be a mapping of that, msg and optionally when (got {rule!r})."}
            if "when" in rule and not self._holds(rule["when"], index, "when"):
                continue
            if not self._holds(rule["that"], index, "that"):
                broken.append(str(self._templar.template(rule["msg"])).strip())
        result["changed"] = False
        result["broken"] = broken
        if broken:
            result["failed"] = True
            what = self._task.args.get("what")
            prefix = f"{self._templar.template(what)}: " if what else ""
            result["msg"] = prefix + " ".join(message if message.endswith(".") else message + "." for message in broken)
        else:
            result["msg"] = f"{len(rules)} rule(s) hold."
        return result

    def _holds(self, conditions: t.Any, index: int, key: str) -> bool:
        """True when every condition of a rule's that (or when) holds; a condition that cannot be evaluated fails the task."""
        for condition in conditions if isinstance(conditions, list) else [conditions]:
            try:
                if not self._templar.evaluate_conditional(conditional=condition):
                    return False
            except AnsibleError as error:
                raise AnsibleError(f"shop.aws.validate: rules[{index}].{key} {condition!r} could not be evaluated: {error}") from error
        return True
