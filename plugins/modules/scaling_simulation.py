#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: scaling_simulation
short_description: Simulate the web group's scaling under a promotion spike, minute by minute
version_added: 1.0.0
author:
  - Shop toolkit team (!UNKNOWN)
description:
  - Runs the pure simulation of C(plugins/module_utils/scaling_simulation.py) (no AWS call) for three
    strategies side by side. A fleet sized for the peak all year; target tracking alone (the group's
    CPU and requests-per-target policies, proportional scale-out, conservative scale-in, warm-up);
    target tracking plus the promotion's scheduled actions.
  - Reports for each the requests at risk (demand above the serving capacity), the minutes short,
    utilisation, instance-hours and EC2 cost; optionally writes a Markdown report, JSON and a PNG chart.
options:
  traffic:
    description: The environment's C(traffic_profile) (hourly_rps, instance_rps, ready_minutes, promotion_spike).
    type: dict
    required: true
  spike:
    description: The promotion spike (multiplier, days, day, start_hour, ramp_minutes, hold_minutes, decay_minutes); default I(traffic.promotion_spike).
    type: dict
  group:
    description:
      - The group's scaling settings. Keys min_size, max_size, target_cpu (percent, or null),
        requests_per_target (per minute, or null), hourly_price (USD an instance-hour).
    type: dict
    required: true
  promotion:
    description:
      - The promotion's floor and ceiling (min_size, max_size) and scale_out_minutes, mapped onto the spike.
        Without it, the schedule strategy is left out.
    type: dict
  title:
    description: Title of the report and chart.
    type: str
    default: Scaling simulation
  output_dir:
    description: Where to write C(<stem>.md), C(<stem>.json) and C(<stem>.png); nothing is written without it.
    type: path
  stem:
    description: File name stem in I(output_dir).
    type: str
    default: scaling
  chart:
    description: Draw the PNG chart (needs matplotlib).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Simulate a 10x promotion spike
  shop.aws.scaling_simulation:
    traffic: "{{ traffic_profile }}"
    group: {min_size: 3, max_size: 30, target_cpu: 50, requests_per_target: 1800, hourly_price: 0.096}
    promotion: {min_size: 12, max_size: 60, scale_out_minutes: 45}
    output_dir: reports/scaling/shop-production
"""

RETURN = r"""
strategies:
  description: Per strategy, the summary of the simulation.
  returned: always
  type: dict
  contains:
    requests_at_risk:
      description: Requests above the serving capacity over the simulated days.
      type: int
    minutes_short:
      description: Minutes with demand above capacity.
      type: int
    utilisation:
      description: Requests served over the capacity of serving instances.
      type: float
    instance_hours:
      description: Instance-hours billed (launch to termination).
      type: float
    ec2_cost:
      description: instance_hours x hourly_price, USD.
      type: float
files:
  description: The files written (markdown, json, chart), when I(output_dir) is set.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.shop.aws.plugins.module_utils.scaling_report import inputs
from ansible_collections.shop.aws.plugins.module_utils.scaling_report import summaries
from ansible_collections.shop.aws.plugins.module_utils.scaling_report import write
from ansible_collections.shop.aws.plugins.module_utils.scaling_simulation import check_traffic
from ansible_collections.shop.aws.plugins.module_utils.scaling_simulation import compare
from ansible_collections.shop.aws.plugins.module_utils.scaling_simulation import group_settings
from ansible_collections.shop.aws.plugins.module_utils.scaling_simulation import profile_from
from ansible_collections.shop.aws.plugins.module_utils.scaling_simulation import strategies


def main():
    module = AnsibleModule(argument_spec=dict(
        traffic=dict(type="dict", required=True),
        spike=dict(type="dict"),
        group=dict(type="dict", required=True),
        promotion=dict(type="dict"),
        title=dict(type="str", default="Scaling simulation"),
        output_dir=dict(type="path"),
        stem=dict(type="str", default="scaling"),
        chart=dict(type="bool", default=True),
    ), supports_check_mode=True)
    params = module.params
    traffic = params["traffic"]
    spike = params["spike"] or traffic.get("promotion_spike")
    errors = check_traffic(dict(traffic, promotion_spike=spike))
    if not spike:
        errors.append("spike: no spike given and traffic.promotion_spike is not set")
    if errors:
        module.fail_json(msg="; ".join(errors), errors=errors)
    try:
        profile = profile_from(traffic, spike)
        settings = group_settings(traffic, params["group"])
    except (KeyError, TypeError, ValueError) as exc:
        module.fail_json(msg=f"group: {exc}")
    results = compare(profile, strategies(profile, settings, params["promotion"]))
    files = {}
    if params["output_dir"] and not module.check_mode:
        stated = inputs(traffic, spike, params["group"], params["promotion"])
        try:
            files = write(params["output_dir"], params["stem"], params["title"], stated, results, params["chart"],
                          opening=profile.spikes[0].start)
        except (OSError, RuntimeError) as exc:
            module.fail_json(msg=f"output_dir: could not write the report: {exc}")
    module.exit_json(changed=bool(files), strategies=summaries(results), files=files)


if __name__ == "__main__":
    main()
