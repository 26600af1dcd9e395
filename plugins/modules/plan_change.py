#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name (plugins/action/plan_change.py): this file documents it.

DOCUMENTATION = r"""
---
module: plan_change
short_description: Report a role's prediction of a change to an AWS resource, for the plan
version_added: 1.1.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - For a change that the module making it cannot describe in check mode, a role compares the
    resource with its settings and hands the differences here. The task reports changed when an
    attribute differs (or for O(action=add), O(action=replace), O(action=destroy)), a diff of the
    attributes, and the result key C(shop_plan) that the callback C(shop.aws.plan) sums up.
  - Runs on the controller; changes nothing.
options:
  resource:
    description: What the change is made with (the module's name, for example C(amazon.aws.autoscaling_group)).
    type: str
    required: true
  name:
    description: The resource's name.
    type: str
    required: true
  action:
    description: What would happen to the resource.
    type: str
    choices: [add, change, replace, destroy]
    default: change
  attributes:
    description: The compared attributes, each C([before, after]) or C({before, after}); equal ones are left out.
    type: dict
  downtime:
    description: The change interrupts the resource (a reboot, a failover).
    type: bool
    default: false
  applies:
    description: When a change with downtime applies - C(now) or C(maintenance window).
    type: str
  note:
    description: What else the reader of the plan should know (shown after the attributes).
    type: str
"""

EXAMPLES = r"""
- name: Predict the changes to the Auto Scaling group
  shop.aws.plan_change:
    resource: amazon.aws.autoscaling_group
    name: shop-local-web
    attributes:
      max_size: [3, 5]
      min_size: [1, 1]
"""

RETURN = r"""
shop_plan:
  description: The plan's entry (action, resource, name, attributes before and after); null when nothing differs.
  returned: always
  type: dict
msg:
  description: The change in one line.
  returned: always
  type: str
"""
