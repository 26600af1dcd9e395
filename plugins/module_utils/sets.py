"""What a module that converges a set of resources in one call changed, and how it reports it.

The set modules (cloudwatch_metric_alarms, cloudwatch_log_groups, ssm_parameters) record each
member as created, updated (with what changed) or unchanged; ``exit`` returns those lists, the
per-member diff (before -> after) that ``--diff`` prints and the same as the plan's entries
(``shop_plan``, read by the shop.aws.plan callback), and reports a change only when a member was
created or updated.
"""

from __future__ import annotations


class SetChanges:
    def __init__(self):
        self.created = []
        self.updated = {}
        self.unchanged = []
        self.diff = {"before": {}, "after": {}}

    def create(self, name, after):
        self.created.append(name)
        self.diff["before"][name], self.diff["after"][name] = {}, after

    def update(self, name, changes, before, after):
        self.updated[name] = changes
        self.diff["before"][name], self.diff["after"][name] = before, after

    def keep(self, name):
        self.unchanged.append(name)

    @property
    def changed(self):
        return bool(self.created or self.updated)

    def plan(self) -> list[dict]:
        """The plan's entries (the shop.aws.plan callback): a member to add with its settings, a
        member to change with the attributes that change, before -> after."""
        entries = [{"action": "add", "name": name,
                    "attributes": {key: {"before": None, "after": value} for key, value in self.diff["after"][name].items()}}
                   for name in self.created]
        for name, changes in self.updated.items():
            before, after = self.diff["before"][name], self.diff["after"][name]
            entries.append({"action": "change", "name": name,
                            "attributes": {key: {"before": before.get(key), "after": after.get(key)} for key in changes}})
        return entries

    def exit(self, module):
        module.exit_json(changed=self.changed, diff=self.diff if self.changed else {"before": {}, "after": {}},
                         created=self.created, updated=self.updated, unchanged=self.unchanged, shop_plan=self.plan())
