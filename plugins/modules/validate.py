#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# The work is done by the action plugin of the same name (plugins/action/validate.py): this file documents it.

DOCUMENTATION = r"""
---
module: validate
short_description: Refuse bad settings naming each broken rule, and only those
version_added: 1.1.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - Evaluates every rule of O(rules). When some do not hold, the task fails with the message of
    each broken rule, and only those, so a user who set one value wrong reads about that value,
    not about every rule of the group (as one M(ansible.builtin.assert) with a shared message would say).
  - A rule's message is templated only when the rule is broken, so it may use values that only
    make sense then (the bad items of a list, for example).
  - Runs on the controller; changes nothing.
options:
  rules:
    description: The rules, each with C(that) (a condition or list of conditions, as in
      M(ansible.builtin.assert); all must hold), C(msg) (what the rule is, naming the variable
      and the value given) and optionally C(when) (the rule applies only when this holds).
    type: list
    elements: dict
    required: true
  what:
    description: A prefix for the refusal (the role or playbook whose settings these are).
    type: str
"""

EXAMPLES = r"""
- name: Check the group sizes
  shop.aws.validate:
    rules:
      - that: compute_min_size | int <= compute_max_size | int
        msg: compute_min_size must not be above compute_max_size {{ compute_max_size }} (got {{ compute_min_size }})
      - that: compute_target_cpu is none or (10 <= compute_target_cpu | int <= 90)
        msg: compute_target_cpu must be 10-90 percent or null (got {{ compute_target_cpu }})
"""

RETURN = r"""
broken:
  description: The message of every broken rule (empty when all hold).
  returned: always
  type: list
  elements: str
  sample: ["compute_target_cpu must be 10-90 percent or null (got 150)"]
"""
