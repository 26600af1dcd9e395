"""Filters that check scaling inputs before any AWS call.

promotion_actions(promotions, base_min, base_max, variable='promotions')
    The one-off scheduled actions the promotions need (see plugins/module_utils/promotions.py),
    or an error listing every rule the list breaks, each naming `variable[i] (name)`.

promotion_limits(promotions, base_min, base_max, desired=None, variable='promotions')
    The group's minimum and maximum a converge may set now: the promotion's while one is under
    way (its scale-out has run), else the base ones; with the promotions under way.
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


def promotion_limits(promotions, base_min, base_max, desired=None, variable="promotions"):
    try:
        actions = rules.plan(promotions or [], int(base_min), int(base_max), variable=variable)
    except rules.PromotionError as exc:
        raise AnsibleFilterError(f"{variable}: " + "; ".join(exc.errors)) from None
    found = rules.limits(actions, int(base_min), int(base_max), None if desired in (None, "") else int(desired))
    for promotion in found["under_way"]:
        promotion.update(since=f"{promotion['since']:%Y-%m-%dT%H:%M:%SZ}", until=f"{promotion['until']:%Y-%m-%dT%H:%M:%SZ}")
    return found


class FilterModule:
    def filters(self):
        return {"promotion_actions": promotion_actions, "promotion_limits": promotion_limits}
