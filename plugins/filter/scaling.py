"""Filters that check scaling inputs before any AWS call.

promotion_actions(promotions, base_min, base_max, variable='promotions')
    The one-off scheduled actions the promotions need (see plugins/module_utils/promotions.py),
    or an error listing every rule the list breaks, each naming `variable[i] (name)`.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from ansible.errors import AnsibleFilterError


def _promotions():
    """plugins/module_utils/promotions.py, shared with the module (module_utils are not importable on the controller)."""
    name = "shop_toolkit_promotions"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "module_utils" / "promotions.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def promotion_actions(promotions, base_min, base_max, variable="promotions"):
    rules = _promotions()
    try:
        actions = rules.plan(promotions or [], int(base_min), int(base_max), variable=variable)
    except rules.PromotionError as exc:
        raise AnsibleFilterError(f"{variable}: " + "; ".join(exc.errors)) from None
    return [dict(action, start_time=rules.comparable(action)["start_time"]) for action in actions]


class FilterModule:
    def filters(self):
        return {"promotion_actions": promotion_actions}
