"""Filters that check scaling inputs before any AWS call.

promotion_actions(promotions, base_min, base_max, variable='promotions')
    The one-off scheduled actions the promotions need (see plugins/module_utils/promotions.py),
    or an error listing every rule the list breaks, each naming `variable[i] (name)`.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.shop.aws.plugins.module_utils import promotions as rules


def promotion_actions(promotions, base_min, base_max, variable="promotions"):
    try:
        actions = rules.plan(promotions or [], int(base_min), int(base_max), variable=variable)
    except rules.PromotionError as exc:
        raise AnsibleFilterError(f"{variable}: " + "; ".join(exc.errors)) from None
    return [dict(action, start_time=rules.comparable(action)["start_time"]) for action in actions]


class FilterModule:
    def filters(self):
        return {"promotion_actions": promotion_actions}
