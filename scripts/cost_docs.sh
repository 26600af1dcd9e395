#!/usr/bin/env bash
# Regenerate the reports docs/cost-and-scaling.md shows: the cost report of every inventory and
# production's scaling simulation (no AWS call). tests/integration/test_cost_and_scaling.py fails
# when they are out of date.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
for env in local staging production; do
  ansible-playbook playbooks/cost_report.yml -i "inventories/$env/hosts.yml" -e "cost_report_dir=$PWD/docs/reports/cost" >/dev/null
done
ansible-playbook playbooks/scaling_simulation.yml -i inventories/production/hosts.yml \
  -e "scaling_report_dir=$PWD/docs/reports/scaling" >/dev/null
echo "written: docs/reports/cost/shop-{local,staging,production}.{md,json}, docs/reports/scaling/shop-production.{md,json,png}"
