#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: stack_cost_estimate
short_description: Price a month of the declared stack, component by component
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - Pure computation (no AWS call) by C(plugins/module_utils/cost_estimate.py). EC2 instance-hours
    come from the scaling simulation of a quiet month (the traffic profile's baseline day, 30 times)
    under the group's target tracking; NAT Gateways, ALB hours and LCUs, RDS (doubled for Multi-AZ)
    with storage and backups, ElastiCache, S3, CloudFront, CloudWatch, Secrets Manager, SQS/SNS
    follow from the settings declared and the traffic profile.
  - Writes the estimate as Markdown and JSON when I(output_dir) is set.
options:
  stack:
    description:
      - The environment's declared stack. Keys azs, nat_mode, instance_type, root_volume_gib,
        detailed_monitoring, db_class, db_multi_az, db_storage_gib, db_backup_days, cache_enabled,
        cache_node_type, messaging_enabled, flow_logs_enabled, log_retention_days, alarms, dashboards, secrets,
        kms_keys.
    type: dict
    required: true
  group:
    description: The group's scaling settings (min_size, max_size, target_cpu, requests_per_target).
    type: dict
    required: true
  traffic:
    description: The environment's C(traffic_profile).
    type: dict
    required: true
  prices:
    description: The region's prices from C(playbooks/vars/aws_prices.yml).
    type: dict
    required: true
  title:
    description: Title of the report.
    type: str
    default: Monthly cost estimate
  notes:
    description: Lines added under the tables.
    type: list
    elements: str
    default: []
  output_dir:
    description: Where to write C(<stem>.md) and C(<stem>.json); nothing is written without it.
    type: path
  stem:
    description: File name stem in I(output_dir).
    type: str
    default: cost
"""

EXAMPLES = r"""
- name: Price the production stack
  shop.aws.stack_cost_estimate:
    stack: "{{ cost_report__stack }}"
    group: "{{ cost_report__group }}"
    traffic: "{{ traffic_profile }}"
    prices: "{{ aws_prices[aws_region] }}"
    output_dir: reports/cost
    stem: shop-production
"""

RETURN = r"""
lines:
  description: One line an item (component, item, quantity, unit, unit_price, monthly).
  returned: always
  type: list
  elements: dict
components:
  description: Monthly USD by component.
  returned: always
  type: dict
total:
  description: Monthly USD.
  returned: always
  type: float
ec2:
  description: The quiet month's simulation (instance_hours, average_instances, peak_instances, requests_at_risk).
  returned: always
  type: dict
files:
  description: The files written (markdown, json), when I(output_dir) is set.
  returned: always
  type: dict
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.shop.aws.plugins.module_utils.cost_estimate import PriceError
from ansible_collections.shop.aws.plugins.module_utils.cost_estimate import estimate
from ansible_collections.shop.aws.plugins.module_utils.cost_estimate import markdown
from ansible_collections.shop.aws.plugins.module_utils.scaling_simulation import check_traffic
from ansible_collections.shop.aws.plugins.module_utils.scaling_simulation import group_settings
from ansible_collections.shop.aws.plugins.module_utils.scaling_simulation import month_instance_hours

STACK_KEYS = ("azs", "nat_mode", "instance_type", "root_volume_gib", "db_class", "db_multi_az", "db_storage_gib",
              "db_backup_days", "log_retention_days", "alarms")


def main():
    module = AnsibleModule(argument_spec=dict(
        stack=dict(type="dict", required=True),
        group=dict(type="dict", required=True),
        traffic=dict(type="dict", required=True),
        prices=dict(type="dict", required=True),
        title=dict(type="str", default="Monthly cost estimate"),
        notes=dict(type="list", elements="str", default=[]),
        output_dir=dict(type="path"),
        stem=dict(type="str", default="cost"),
    ), supports_check_mode=True)
    params = module.params
    stack = params["stack"]
    errors = check_traffic(params["traffic"])
    errors += [f"stack.{key} is missing" for key in STACK_KEYS if key not in stack]
    if errors:
        module.fail_json(msg="; ".join(errors), errors=errors)
    try:
        settings = group_settings(params["traffic"], dict(params["group"], hourly_price=0.0))
        ec2 = month_instance_hours(params["traffic"], settings)
        result = estimate(stack, params["traffic"], params["prices"], ec2)
    except PriceError as exc:
        module.fail_json(msg=f"prices: {exc}")
    except (KeyError, TypeError, ValueError) as exc:
        module.fail_json(msg=f"stack or group: {exc!r}")
    files = {}
    if params["output_dir"] and not module.check_mode:
        try:
            os.makedirs(params["output_dir"], exist_ok=True)
            files = {"markdown": os.path.join(params["output_dir"], params["stem"] + ".md"),
                     "json": os.path.join(params["output_dir"], params["stem"] + ".json")}
            with open(files["markdown"], "w") as handle:
                handle.write(markdown(params["title"], result, params["notes"]))
            with open(files["json"], "w") as handle:
                json.dump(dict(result, title=params["title"], ec2=ec2, stack=stack, notes=params["notes"]), handle, indent=2)
                handle.write("\n")
        except OSError as exc:
            module.fail_json(msg=f"output_dir: could not write the report: {exc}")
    module.exit_json(changed=bool(files), ec2=ec2, files=files, **result)


if __name__ == "__main__":
    main()
